/// The exported entry of the resize plugin library.
#include "resize/resize_lowerings.h"
#include "ts2coreml/sdk.h"

TS2COREML_PLUGIN_HEADER()

extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return ts2coreml::plugins::ResizePluginInfo();
}
