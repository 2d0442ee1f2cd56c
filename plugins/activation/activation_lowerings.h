/// Built-in lowerings of activations: relu, relu6, hardtanh, hardsigmoid, hardswish, sigmoid, tanh,
/// silu, gelu, leaky_relu, softmax, log_softmax, elu, selu, celu, softplus, mish, log_sigmoid,
/// prelu, rrelu (eval), glu, hardshrink, softshrink, threshold and logit.
#ifndef TS2COREML_PLUGINS_ACTIVATION_ACTIVATION_LOWERINGS_H_
#define TS2COREML_PLUGINS_ACTIVATION_ACTIVATION_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The activation family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ActivationPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ACTIVATION_ACTIVATION_LOWERINGS_H_
