# ts2coreml_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir] [INSTALL_DESTINATION dir])
#
# A ts2coreml lowering plugin built out of tree, the way the built-in plugins are built: a MODULE
# library against the SDK only, hidden visibility, every symbol but `ts2coreml_plugin_entry` made
# local by a linker version script, and `--no-undefined` so a missing symbol fails the link rather
# than the load. OUTPUT_DIRECTORY puts the library in a folder of its own, ready for
# `ts2coreml --plugin-dir`; INSTALL_DESTINATION adds an install rule.
#
# Included by ts2coreml_sdkConfig.cmake, which sets TS2COREML_SDK_EXPORTS_MAP.
function(ts2coreml_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;INSTALL_DESTINATION" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "ts2coreml_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ts2coreml::sdk)
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
  target_link_options(${name} PRIVATE -Wl,--no-undefined
    "-Wl,--version-script=${TS2COREML_SDK_EXPORTS_MAP}")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${TS2COREML_SDK_EXPORTS_MAP}")
  if(ARG_INSTALL_DESTINATION)
    install(TARGETS ${name} LIBRARY DESTINATION "${ARG_INSTALL_DESTINATION}")
  endif()
endfunction()
