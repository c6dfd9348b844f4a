#pragma once
/// @file
/// search::reinforce: the recurrent controller of NAS-RL (Zoph & Le, ICLR 2017) as Lu et al. 2019 (NAQS) use it
/// for hardware/software co-design: an LSTM emits the genome one gene at a time, each gene conditioned on the genes
/// before it, and is trained by REINFORCE (Williams, Machine Learning 8, 1992) with an exponential moving-average
/// baseline. Models search::Strategy (search/concepts.hpp): hyper-parameters in the struct, the controller made by
/// start(layout, seed). Plain loops in double precision: the controller is tiny (35 hidden units: ~10k LSTM
/// parameters plus one embedding and one softmax head per gene, 17k for 35 genes of 3 choices), so an ask and a tell
/// cost under a millisecond beside a trial's seconds of proxy training, and double makes its gradient checkable
/// against finite differences.
///
/// The controller, for a layout of n genes, gene t with K_t = layout[t] choices, H hidden units:
///   x_0 = s (a learned start token, H);  x_t = E_{t-1}[a_{t-1}] (an embedding of the previous gene's choice, H)
///   [i f g o] = W [x_t; h_{t-1}] + b     (W: 4H x 2H, b: 4H; h_{-1} = c_{-1} = 0)
///   c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g);   h_t = sigmoid(o) * tanh(c_t)   (Hochreiter & Schmidhuber 1997)
///   p_t = softmax(V_t h_t + u_t)         (V_t: K_t x H, u_t: K_t; one head per gene)
/// and a_t is drawn from p_t (ask) or is the told genome's gene (tell, teacher forcing).
///
/// Training (one update per tell, Williams 1992 with Zoph & Le's baseline): advantage A = reward - baseline, then
/// gradient ascent on J(theta) = A * log p(genome) + entropy_weight * sum_t H(p_t), where p(genome) = prod_t
/// p_t[a_t] and H(p_t) = -sum_k p_t[k] log p_t[k] along the told genome (the entropy bonus of Williams & Peng 1991,
/// as ENAS, Pham et al. 2018, uses it); the gradient is exact backpropagation through time. Then the baseline moves:
/// baseline <- decay * baseline + (1 - decay) * reward; the first reward told sets it (so the first advantage is 0).
/// tell recomputes the forward pass of the told genome with the current parameters, so a genome asked long ago (ask
/// may be called several times before the tells) and a genome replayed from a journal are learned from alike.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

/// The NAS-RL / NAQS controller trained by REINFORCE:
/// `search::reinforce{.learning_rate = 0.0035, .hidden = 35, .entropy_weight = 3e-3}`.
struct reinforce {
  static constexpr std::string_view name = "reinforce";

  /// How a gradient becomes a step.
  enum class optimizer_kind {
    adam,  ///< Adam (Kingma & Ba, ICLR 2015), beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, as Zoph & Le's controller
    sgd,   ///< plain gradient ascent: theta += learning_rate * gradient
  };

  /// Step size, > 0. Zoph & Le used Adam at 6e-4 over 12,800 architectures and ENAS (Pham et al. 2018) 3.5e-4 over
  /// far more samples; a co-design search gets hundreds of trials, so the default is ten times ENAS's. Chosen here
  /// on the synthetic tasks of tests/search (12-24 genes of 4 choices, 200-600 trials), not taken from a paper: at
  /// 0.035 Adam collapsed the policy onto a poor genome (no better than random search after 600 trials).
  double learning_rate = 0.0035;
  std::size_t hidden = 35;       ///< LSTM hidden units (= embedding width), >= 1; 35 as Zoph & Le (one layer, not two)
  double baseline_decay = 0.95;  ///< of the moving-average baseline, in [0, 1); 0: the last reward
  double entropy_weight = 3e-3;  ///< weight of the entropy bonus, >= 0 (0: none); keeps the policy exploring
  double init_scale = 0.08;      ///< every parameter starts uniform in [-init_scale, init_scale], > 0 (Zoph & Le)
  optimizer_kind optimizer = optimizer_kind::adam;

  /// The running controller: its parameters, the optimizer's moments, the baseline and the random stream.
  class state {
   public:
    /// @throws hwnas::invalid_argument for a bad layout or hyper-parameters (named in the message)
    state(std::span<const int> layout, std::uint64_t seed, const reinforce& hp)
        : layout_(detail::checked_layout(layout, "hwnas::search::reinforce")),
          rng_(seed),
          learning_rate_(hp.learning_rate),
          baseline_decay_(hp.baseline_decay),
          entropy_weight_(hp.entropy_weight),
          hidden_(hp.hidden),
          optimizer_(hp.optimizer) {
      const auto bad = [](const std::string& what) {
        throw invalid_argument("hwnas::search::reinforce: " + what);
      };
      if (!(hp.learning_rate > 0.0) || !std::isfinite(hp.learning_rate))
        bad("learning_rate must be finite and > 0, got " + std::to_string(hp.learning_rate));
      if (hp.hidden < 1) bad("hidden must be >= 1");
      if (!(hp.baseline_decay >= 0.0 && hp.baseline_decay < 1.0))
        bad("baseline_decay must be in [0, 1), got " + std::to_string(hp.baseline_decay));
      if (!(hp.entropy_weight >= 0.0) || !std::isfinite(hp.entropy_weight))
        bad("entropy_weight must be finite and >= 0, got " + std::to_string(hp.entropy_weight));
      if (!(hp.init_scale > 0.0) || !std::isfinite(hp.init_scale))
        bad("init_scale must be finite and > 0, got " + std::to_string(hp.init_scale));
      if (hp.optimizer != optimizer_kind::adam && hp.optimizer != optimizer_kind::sgd) bad("unknown optimizer");
      const std::size_t h = hp.hidden, n = layout_.size();
      std::size_t at = 0;
      start_ = at, at += h;
      w_ = at, at += 4 * h * 2 * h;
      b_ = at, at += 4 * h;
      embed_.resize(n), head_w_.resize(n), head_b_.resize(n);
      for (std::size_t t = 0; t + 1 < n; ++t) embed_[t] = at, at += choices(t) * h;
      for (std::size_t t = 0; t < n; ++t) {
        head_w_[t] = at, at += choices(t) * h;
        head_b_[t] = at, at += choices(t);
      }
      params_.resize(at);
      for (auto& p : params_) p = rng_.uniform(-hp.init_scale, hp.init_scale);
      m_.assign(at, 0.0);
      v_.assign(at, 0.0);
    }

    /// Samples a genome from the controller (gene by gene, each conditioned on the ones drawn before).
    genome ask() {
      trace tr;
      genome g(layout_.size());
      forward(tr, [&](std::size_t t, std::span<const double> p) {
        const double u = rng_.uniform();
        double cum = 0.0;
        int k = 0;
        for (; k + 1 < static_cast<int>(p.size()); ++k) {
          cum += p[static_cast<std::size_t>(k)];
          if (u < cum) break;
        }
        g[t] = k;
        return k;
      });
      return g;
    }

    /// One REINFORCE update: advantage = reward - baseline, ascent on objective(g, advantage), then the baseline
    /// moves toward reward. @throws hwnas::invalid_argument for a genome that does not fit the layout or a reward
    /// that is NaN or infinite (nothing is changed then)
    void tell(const genome& g, double reward) {
      detail::check_told(g, layout_, reward, "hwnas::search::reinforce::tell");
      if (!told_) baseline_ = reward;
      const double advantage = reward - baseline_;
      const std::vector<double> grad = gradient(g, advantage);
      ++step_;
      if (optimizer_ == optimizer_kind::sgd) {
        for (std::size_t k = 0; k < params_.size(); ++k) params_[k] += learning_rate_ * grad[k];
      } else {
        constexpr double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step_));
        const double c2 = 1.0 - std::pow(beta2, static_cast<double>(step_));
        for (std::size_t k = 0; k < params_.size(); ++k) {
          m_[k] = beta1 * m_[k] + (1.0 - beta1) * grad[k];
          v_[k] = beta2 * v_[k] + (1.0 - beta2) * grad[k] * grad[k];
          params_[k] += learning_rate_ * (m_[k] / c1) / (std::sqrt(v_[k] / c2) + epsilon);
        }
      }
      baseline_ = baseline_decay_ * baseline_ + (1.0 - baseline_decay_) * reward;
      ++told_;
    }

    /// log p(g) under the current controller (natural log, <= 0).
    /// @throws hwnas::invalid_argument for a genome that does not fit the layout
    double log_probability(const genome& g) const {
      space::check_genome(g, layout_, "hwnas::search::reinforce::log_probability");
      trace tr;
      forward(tr, [&](std::size_t t, std::span<const double>) { return g[t]; });
      return tr.log_p;
    }

    /// sum_t H(p_t) along g (teacher forced): the entropy the bonus of tell rewards, in nats.
    /// @throws hwnas::invalid_argument for a genome that does not fit the layout
    double entropy(const genome& g) const {
      space::check_genome(g, layout_, "hwnas::search::reinforce::entropy");
      trace tr;
      forward(tr, [&](std::size_t t, std::span<const double>) { return g[t]; });
      return tr.entropy;
    }

    /// What tell climbs: advantage * log p(g) + entropy_weight * entropy(g).
    double objective(const genome& g, double advantage) const {
      return advantage * log_probability(g) + entropy_weight_ * entropy(g);
    }

    /// The exact gradient of objective(g, advantage) with respect to parameters() (backpropagation through time),
    /// in the same order. @throws hwnas::invalid_argument for a genome that does not fit the layout
    std::vector<double> gradient(const genome& g, double advantage) const {
      space::check_genome(g, layout_, "hwnas::search::reinforce::gradient");
      trace tr;
      forward(tr, [&](std::size_t t, std::span<const double>) { return g[t]; });
      return backward(tr, g, advantage);
    }

    /// The parameters, flattened: start token (H), LSTM W (4H x 2H, row-major, gates i f g o, columns [x; h]), b
    /// (4H), the embeddings of genes 0..n-2 (K_t x H each), then per gene its head V_t (K_t x H) and u_t (K_t).
    const std::vector<double>& parameters() const noexcept { return params_; }
    /// Replaces the parameters (the optimizer's moments and the baseline are kept).
    /// @throws hwnas::invalid_argument when the size differs from parameters().size() or a value is not finite
    void set_parameters(std::span<const double> p) {
      if (p.size() != params_.size())
        throw invalid_argument("hwnas::search::reinforce::set_parameters: got " + std::to_string(p.size()) +
                               " values, the controller has " + std::to_string(params_.size()));
      for (const double x : p)
        if (!std::isfinite(x))
          throw invalid_argument("hwnas::search::reinforce::set_parameters: a parameter is not finite");
      params_.assign(p.begin(), p.end());
    }

    /// The moving-average baseline (0 before the first tell).
    double baseline() const noexcept { return baseline_; }
    /// How many rewards were told.
    std::size_t told() const noexcept { return told_; }

   private:
    /// What the forward pass keeps for backpropagation through time: per step t, each (H) unless said.
    struct trace {
      std::vector<int> a;                           // the choice at each step (n)
      std::vector<double> x, h_prev, c_prev;        // input and recurrent state in (n x H)
      std::vector<double> gi, gf, gg, go, c, tc, h;  // gates after their nonlinearity, cell, tanh(cell), output
      std::vector<std::vector<double>> p, logp;     // softmax and its log per step (K_t)
      double log_p = 0.0, entropy = 0.0;
    };

    std::size_t choices(std::size_t t) const noexcept { return static_cast<std::size_t>(layout_[t]); }
    static double sigmoid(double z) noexcept { return 1.0 / (1.0 + std::exp(-z)); }

    /// Runs the controller over every gene; choose(t, p_t) gives the choice fed to the next step.
    template <class Choose>
    void forward(trace& tr, Choose&& choose) const {
      const std::size_t n = layout_.size(), h = hidden_;
      tr.a.assign(n, 0);
      for (auto* v : {&tr.x, &tr.h_prev, &tr.c_prev, &tr.gi, &tr.gf, &tr.gg, &tr.go, &tr.c, &tr.tc, &tr.h})
        v->assign(n * h, 0.0);
      tr.p.assign(n, {});
      tr.logp.assign(n, {});
      tr.log_p = tr.entropy = 0.0;
      std::vector<double> z(4 * h);
      for (std::size_t t = 0; t < n; ++t) {
        double* x = &tr.x[t * h];
        const double* src = t == 0 ? &params_[start_]
                                   : &params_[embed_[t - 1] + static_cast<std::size_t>(tr.a[t - 1]) * h];
        for (std::size_t j = 0; j < h; ++j) x[j] = src[j];
        if (t > 0)
          for (std::size_t j = 0; j < h; ++j) {
            tr.h_prev[t * h + j] = tr.h[(t - 1) * h + j];
            tr.c_prev[t * h + j] = tr.c[(t - 1) * h + j];
          }
        const double* hp = &tr.h_prev[t * h];
        for (std::size_t r = 0; r < 4 * h; ++r) {  // z = W [x; h] + b
          const double* wr = &params_[w_ + r * 2 * h];
          double s = params_[b_ + r];
          for (std::size_t j = 0; j < h; ++j) s += wr[j] * x[j] + wr[h + j] * hp[j];
          z[r] = s;
        }
        for (std::size_t j = 0; j < h; ++j) {
          const std::size_t k = t * h + j;
          tr.gi[k] = sigmoid(z[j]);
          tr.gf[k] = sigmoid(z[h + j]);
          tr.gg[k] = std::tanh(z[2 * h + j]);
          tr.go[k] = sigmoid(z[3 * h + j]);
          tr.c[k] = tr.gf[k] * tr.c_prev[k] + tr.gi[k] * tr.gg[k];
          tr.tc[k] = std::tanh(tr.c[k]);
          tr.h[k] = tr.go[k] * tr.tc[k];
        }
        const std::size_t kt = choices(t);
        auto& p = tr.p[t];
        auto& lp = tr.logp[t];
        p.resize(kt);
        lp.resize(kt);
        double top = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < kt; ++k) {  // logits = V_t h_t + u_t
          const double* vk = &params_[head_w_[t] + k * h];
          double s = params_[head_b_[t] + k];
          for (std::size_t j = 0; j < h; ++j) s += vk[j] * tr.h[t * h + j];
          lp[k] = s;
          top = std::max(top, s);
        }
        double sum = 0.0;
        for (std::size_t k = 0; k < kt; ++k) sum += std::exp(lp[k] - top);
        const double lse = top + std::log(sum);
        double ent = 0.0;
        for (std::size_t k = 0; k < kt; ++k) {
          lp[k] -= lse;
          p[k] = std::exp(lp[k]);
          ent -= p[k] * lp[k];
        }
        tr.entropy += ent;
        const int a = choose(t, std::span<const double>(p));
        tr.a[t] = a;
        tr.log_p += lp[static_cast<std::size_t>(a)];
      }
    }

    /// The gradient of advantage * log p + entropy_weight * sum_t H(p_t) through the trace of a teacher-forced
    /// forward pass.
    std::vector<double> backward(const trace& tr, const genome& g, double advantage) const {
      const std::size_t n = layout_.size(), h = hidden_;
      const double beta = entropy_weight_;
      std::vector<double> grad(params_.size(), 0.0);
      std::vector<double> dh(h, 0.0), dc(h, 0.0), dz(4 * h), dxh(2 * h);  // dh, dc: flowing back from step t+1
      for (std::size_t t = n; t-- > 0;) {
        const std::size_t kt = choices(t);
        const auto& p = tr.p[t];
        const auto& lp = tr.logp[t];
        double ent = 0.0;
        for (std::size_t k = 0; k < kt; ++k) ent -= p[k] * lp[k];
        // d/dlogit_k: A (1[k = a_t] - p_k) for log p_t[a_t]; -p_k (log p_k + H_t) for H_t.
        for (std::size_t k = 0; k < kt; ++k) {
          const double dl = advantage * ((static_cast<int>(k) == g[t] ? 1.0 : 0.0) - p[k]) - beta * p[k] * (lp[k] + ent);
          grad[head_b_[t] + k] += dl;
          double* gv = &grad[head_w_[t] + k * h];
          const double* vk = &params_[head_w_[t] + k * h];
          for (std::size_t j = 0; j < h; ++j) {
            gv[j] += dl * tr.h[t * h + j];
            dh[j] += dl * vk[j];
          }
        }
        for (std::size_t j = 0; j < h; ++j) {  // through h = o tanh(c), c = f c' + i g
          const std::size_t k = t * h + j;
          const double dcj = dc[j] + dh[j] * tr.go[k] * (1.0 - tr.tc[k] * tr.tc[k]);
          const double dout = dh[j] * tr.tc[k];
          dz[j] = dcj * tr.gg[k] * tr.gi[k] * (1.0 - tr.gi[k]);
          dz[h + j] = dcj * tr.c_prev[k] * tr.gf[k] * (1.0 - tr.gf[k]);
          dz[2 * h + j] = dcj * tr.gi[k] * (1.0 - tr.gg[k] * tr.gg[k]);
          dz[3 * h + j] = dout * tr.go[k] * (1.0 - tr.go[k]);
          dc[j] = dcj * tr.gf[k];
        }
        std::fill(dxh.begin(), dxh.end(), 0.0);
        const double* x = &tr.x[t * h];
        const double* hp = &tr.h_prev[t * h];
        for (std::size_t r = 0; r < 4 * h; ++r) {
          const double d = dz[r];
          grad[b_ + r] += d;
          double* gw = &grad[w_ + r * 2 * h];
          const double* wr = &params_[w_ + r * 2 * h];
          for (std::size_t j = 0; j < h; ++j) {
            gw[j] += d * x[j];
            gw[h + j] += d * hp[j];
            dxh[j] += d * wr[j];
            dxh[h + j] += d * wr[h + j];
          }
        }
        double* gx = t == 0 ? &grad[start_] : &grad[embed_[t - 1] + static_cast<std::size_t>(g[t - 1]) * h];
        for (std::size_t j = 0; j < h; ++j) {
          gx[j] += dxh[j];
          dh[j] = dxh[h + j];
        }
      }
      return grad;
    }

    std::vector<int> layout_;
    rng rng_;
    double learning_rate_, baseline_decay_, entropy_weight_;
    std::size_t hidden_;
    optimizer_kind optimizer_;
    std::size_t start_ = 0, w_ = 0, b_ = 0;
    std::vector<std::size_t> embed_, head_w_, head_b_;  // offsets into params_
    std::vector<double> params_, m_, v_;                 // parameters and Adam's first and second moments
    double baseline_ = 0.0;
    std::size_t told_ = 0, step_ = 0;
  };

  /// @throws hwnas::invalid_argument for an empty layout, a gene with no choice, or a hyper-parameter out of its
  ///         domain (learning_rate <= 0, hidden = 0, baseline_decay outside [0, 1), entropy_weight < 0,
  ///         init_scale <= 0)
  state start(std::span<const int> layout, std::uint64_t seed) const { return state(layout, seed, *this); }

  /// The hyper-parameters, for reports and the journal's header.
  nlohmann::json hyper_parameters() const {
    return {{"learning_rate", learning_rate}, {"hidden", hidden},         {"baseline_decay", baseline_decay},
            {"entropy_weight", entropy_weight}, {"init_scale", init_scale},
            {"optimizer", optimizer == optimizer_kind::adam ? "adam" : "sgd"}};
  }
};

static_assert(Strategy<reinforce>);
static_assert(StrategyState<reinforce::state>);

}  // namespace hwnas::search
