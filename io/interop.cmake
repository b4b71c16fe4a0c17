# Hugging Face interop: the safetensors store backend and a model's
# non-tensor files (docs/INTEROP.md).
target_sources(mpb_io PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_store.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_store_st.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_store_st_write.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_hf_files.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_hf_files_h5.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_hf_files_config.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_hf_tokenizer.c)
