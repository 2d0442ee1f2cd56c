/// The exported entry of the shape plugin library.
#include "shape/shape_lowerings.h"

extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return ts2coreml::plugins::ShapePluginInfo();
}
