#include <c10/util/Exception.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/lambda_lr.h>

#include <cmath>

namespace torchclr {

LambdaLROptions::LambdaLROptions(LRLambda lr_lambda)
    : lr_lambda_({std::move(lr_lambda)}) {}

LambdaLROptions::LambdaLROptions(std::vector<LRLambda> lr_lambda)
    : lr_lambda_(std::move(lr_lambda)) {}

namespace detail {

void check_lambdas(const LambdaLROptions& options,
                   std::size_t num_groups,
                   const std::string& owner) {
  const auto count = options.lr_lambda().size();
  TORCH_CHECK(count == 1 || count == num_groups,
              owner,
              ": lr_lambda must have one function or one per param group (",
              num_groups,
              "), got ",
              count);
  for (std::size_t i = 0; i < count; ++i) {
    TORCH_CHECK(options.lr_lambda()[i], owner, ": lr_lambda ", i, " is empty");
  }
}

double call_lambda(const LambdaLROptions& options,
                   std::size_t group,
                   int64_t step,
                   const std::string& owner) {
  const auto& lambdas = options.lr_lambda();
  const double factor = lambdas[lambdas.size() == 1 ? 0 : group](step);
  TORCH_CHECK(std::isfinite(factor) && factor >= 0,
              owner,
              ": lr_lambda(",
              step,
              ") of param group ",
              group,
              " returned ",
              factor,
              "; it must return a finite value >= 0");
  return factor;
}

std::string lambda_options_text(const LambdaLROptions& options,
                                std::size_t num_groups) {
  return OptionsText()
      .add("lr_lambda", options.lambda_name())
      .add("functions",
           static_cast<int64_t>(options.lr_lambda().size() == 1 ? 1
                                                                : num_groups))
      .str();
}

}  // namespace detail

LambdaLR::LambdaLR(torch::optim::Optimizer& optimizer, LambdaLROptions options)
    : OptionsScheduler(optimizer, "LambdaLR", std::move(options)) {
  detail::check_lambdas(options_, num_groups(), name());
  initial_step();
}

double LambdaLR::lr_at(int64_t step, std::size_t group) const {
  return base_lrs()[group] * detail::call_lambda(options_, group, step, name());
}

std::string LambdaLR::options_text() const {
  return detail::lambda_options_text(options_, num_groups());
}

}  // namespace torchclr
