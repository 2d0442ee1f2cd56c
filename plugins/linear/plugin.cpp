/// The exported entry of the linear plugin library.
#include "linear/linear_lowerings.h"

extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return ts2coreml::plugins::LinearPluginInfo();
}
