#include "run_spec.h"

#include <torchclr/scheduler_text.h>

namespace torchclr::examples {

Network make_model(const RunSpec& spec,
                   const DataSplit& train,
                   torch::Device device) {
  Network model = make_network(spec.model,
                               spec.dataset,
                               train.images.size(1),
                               train.images.size(2),
                               train.images.size(3),
                               spec.num_classes,
                               spec.batch_norm);
  model.module->to(device);
  return model;
}

TrainingRun make_run(const RunSpec& spec,
                     const DataSplit& train,
                     torch::Device device) {
  TrainingRun run{make_model(spec, train, device), nullptr, nullptr};
  run.optimizer = make_optimizer(spec.optimizer,
                                 run.model.param_groups,
                                 spec.lr,
                                 spec.momentum,
                                 spec.weight_decay);
  // Caffe's semantics: a single LR in the text is the LR of the groups at
  // lr_mult 1, and the others train at their multiple of it.
  run.scheduler =
      make_scheduler(spec.schedule,
                     *run.optimizer,
                     ParseOptions().group_ratios(run.model.lr_multipliers()));
  return run;
}

}  // namespace torchclr::examples
