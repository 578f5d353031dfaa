# The example and benchmark programs link gperftools' tcmalloc by default.
# glibc's malloc gives the freed activation buffers back to the kernel and
# page-faults them in again every training step; tcmalloc keeps them (see
# bench/malloc_faults.sh for the measurement that chose it over jemalloc
# and GLIBC_TUNABLES). Debian: libgoogle-perftools-dev.
option(TORCHCLR_FAST_MALLOC
       "Link the example and benchmark programs with tcmalloc" ON)
if(TORCHCLR_FAST_MALLOC AND NOT TORCHCLR_TCMALLOC)
  find_library(TORCHCLR_TCMALLOC NAMES tcmalloc_minimal tcmalloc)
  if(NOT TORCHCLR_TCMALLOC)
    message(WARNING "tcmalloc not found (Debian: libgoogle-perftools-dev): "
                    "the examples use glibc's malloc and train slower")
  endif()
endif()

# Links `target` with tcmalloc, kept even under --as-needed (the program
# never calls it by name: it replaces malloc).
function(torchclr_link_fast_malloc target)
  if(TORCHCLR_FAST_MALLOC AND TORCHCLR_TCMALLOC)
    target_link_libraries(${target} PRIVATE
      "-Wl,--push-state,--no-as-needed" ${TORCHCLR_TCMALLOC} "-Wl,--pop-state")
  endif()
endfunction()
