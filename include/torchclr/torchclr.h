#pragma once

#include <torchclr/batch_source.h>
#include <torchclr/cosine_annealing_warm_restarts.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/data/cifar.h>
#include <torchclr/data/idx.h>
#include <torchclr/exponential_lr.h>
#include <torchclr/files.h>
#include <torchclr/group_values.h>
#include <torchclr/linear_lr.h>
#include <torchclr/lr_finder.h>
#include <torchclr/lr_finder_plot.h>
#include <torchclr/lr_suggestions.h>
#include <torchclr/momentum.h>
#include <torchclr/multi_step_lr.h>
#include <torchclr/one_cycle_lr.h>
#include <torchclr/reduce_lr_on_plateau.h>
#include <torchclr/scheduler.h>
#include <torchclr/sequential_lr.h>
#ifdef TORCHCLR_DISTRIBUTED
#include <torchclr/distributed.h>
#endif
