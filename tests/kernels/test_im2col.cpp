#include <doctest/doctest.h>

#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/im2col.hpp>

#include "kernel_test_support.hpp"

namespace hk = hwnas::kernels;
using hk::conv2d_shape;
using namespace hwnas::kernels::test;

TEST_CASE("im2col: matches its definition, and col2im is its adjoint") {
  hwnas::rng r(40);
  for (const conv2d_shape& s : {conv2d_shape{1, 2, 5, 6, 1, 3, 1}, conv2d_shape{1, 3, 7, 7, 1, 4, 2},
                                conv2d_shape{1, 1, 1, 1, 1, 7, 3}, conv2d_shape{1, 2, 9, 4, 1, 1, 3},
                                conv2d_shape{1, 1, 10, 11, 1, 5, 3}}) {
    const std::size_t pixels = s.out_pixels(), ld = pixels + 3;  // a leading dimension larger than needed
    const std::size_t rows = s.patch_size(), k = s.kernel;
    const auto image = random_vector(s.image_size(), r);
    std::vector<float> col((rows - 1) * ld + pixels, 7.0f);
    hk::im2col(s, image, col, ld);
    bool ok = true;
    for (std::size_t c = 0; c < s.in_channels; ++c)
      for (std::size_t ky = 0; ky < k; ++ky)
        for (std::size_t kx = 0; kx < k; ++kx)
          for (std::size_t y = 0; y < s.out_height(); ++y)
            for (std::size_t x = 0; x < s.out_width(); ++x) {
              const long iy = static_cast<long>(y * s.stride + ky) - static_cast<long>(s.pad_top());
              const long ix = static_cast<long>(x * s.stride + kx) - static_cast<long>(s.pad_left());
              const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<long>(s.in_height) &&
                                  ix < static_cast<long>(s.in_width);
              const float want = inside ? image[(c * s.in_height + static_cast<std::size_t>(iy)) * s.in_width +
                                                static_cast<std::size_t>(ix)]
                                        : 0.0f;
              ok = ok && col[((c * k + ky) * k + kx) * ld + y * s.out_width() + x] == want;
            }
    CHECK(ok);
    if (ld > pixels && rows > 1) CHECK(col[pixels] == 7.0f);  // the gap past each row is untouched

    // <im2col(x), y> == <x, col2im(y)>
    auto ycol = random_vector(col.size(), r);
    std::vector<float> back(s.image_size(), 0.0f);
    hk::col2im(s, ycol, ld, back);
    double lhs = 0;
    for (std::size_t row = 0; row < rows; ++row)
      for (std::size_t p = 0; p < pixels; ++p) lhs += static_cast<double>(col[row * ld + p]) * ycol[row * ld + p];
    CHECK(lhs == doctest::Approx(dot(image, back)).epsilon(1e-5));
  }
}

TEST_CASE("im2col: bad sizes throw invalid_argument") {
  const conv2d_shape s{1, 1, 4, 4, 1, 3, 1};
  std::vector<float> image(16), col(9 * 16), small(10);
  CHECK_NOTHROW(hk::im2col(s, image, col, 16));
  CHECK_THROWS_WITH_AS(hk::im2col(s, image, col, 15), doctest::Contains("ld_col"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::im2col(s, small, col, 16), doctest::Contains("image"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::col2im(s, small, 16, image), doctest::Contains("col"), hwnas::invalid_argument);
}
