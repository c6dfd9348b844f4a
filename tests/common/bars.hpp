#pragma once
// A synthetic labelled image set shared by the tests that train: 4 classes of 12x12 images, a bright horizontal
// bar in the top or bottom half, or a vertical bar in the left or right half, at a random position, on uniform
// noise of amplitude 0.3. Separable by a tiny CNN in a few epochs.

#include <array>
#include <cstddef>
#include <cstdint>

#include "hwnas/core/rng.hpp"
#include "hwnas/io/dataset.hpp"

namespace hwnas::test {

inline io::dataset bars(std::size_t n, std::uint64_t seed) {
  rng g(seed);
  io::dataset d;
  d.classes = 4;
  d.images = xt::xtensor<float, 4>(std::array<std::size_t, 4>{n, 1, 12, 12});
  d.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{n});
  for (std::size_t i = 0; i < n; ++i) {
    const int cls = static_cast<int>(g.below(4));
    d.labels(i) = static_cast<std::uint8_t>(cls);
    float* img = d.images.data() + i * 144;
    for (int k = 0; k < 144; ++k) img[k] = static_cast<float>(0.3 * g.uniform());
    const int pos = static_cast<int>(g.below(5)) + (cls % 2 ? 6 : 1);
    for (int k = 0; k < 12; ++k) {
      if (cls < 2)
        img[pos * 12 + k] = 1.0f;
      else
        img[k * 12 + pos] = 1.0f;
    }
  }
  return d;
}

}  // namespace hwnas::test
