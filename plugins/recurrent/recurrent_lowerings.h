/// Built-in lowerings of recurrent layers and cells: aten::lstm, gru, rnn_tanh and rnn_relu (the
/// .input and packed .data overloads) and lstm_cell, gru_cell, rnn_tanh_cell and rnn_relu_cell,
/// unrolled over the static sequence into primitive MIL ops (docs/recurrent.md).
#ifndef TS2COREML_PLUGINS_RECURRENT_RECURRENT_LOWERINGS_H_
#define TS2COREML_PLUGINS_RECURRENT_RECURRENT_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The recurrent family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* RecurrentPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_RECURRENT_RECURRENT_LOWERINGS_H_
