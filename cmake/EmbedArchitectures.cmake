# The modular architectures (configs/architectures/*.json, docs/CONFIG.md
# "modules") compiled into the tool as strings: the JSON files stay the one
# definition, read with jansson at run time, and nothing is looked up on
# disk.  Regenerated when a file changes (CMAKE_CONFIGURE_DEPENDS).
function(mpb_embed_architectures out_c)
  file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/configs/architectures/*.json)
  list(SORT files)
  set(body "/* Generated from configs/architectures/NAME.json by cmake/EmbedArchitectures.cmake. */\n")
  string(APPEND body "#include \"mpb_arch_modules.h\"\n\nconst char *const mpb_arch_modules_json[] = {\n")
  foreach(f IN LISTS files)
    file(READ ${f} text)
    string(REPLACE "\\" "\\\\" text "${text}")
    string(REPLACE "\"" "\\\"" text "${text}")
    string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
    string(APPEND body "    \"${text}\",\n")
  endforeach()
  string(APPEND body "    NULL,\n};\n")
  file(WRITE ${out_c}.tmp "${body}")
  configure_file(${out_c}.tmp ${out_c} COPYONLY)
endfunction()
