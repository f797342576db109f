# mcz_tool_targets(VAR): the user commands mcz ships, as targets (mcz, every tools/mcz-NAME.c,
# the sample generator), in that order: what cmake/install.cmake installs and what the
# ecosystem and option tests run. Test programs are not among them.
function(mcz_tool_targets var)
  set(_candidates mcz mcz-sample)
  file(GLOB _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/mcz-*.c)
  foreach(_src ${_srcs})
    get_filename_component(_n ${_src} NAME_WE)
    list(APPEND _candidates ${_n})
  endforeach()
  set(_tools)
  foreach(_t ${_candidates})
    if(TARGET ${_t})
      list(APPEND _tools ${_t})
    endif()
  endforeach()
  set(${var} ${_tools} PARENT_SCOPE)
endfunction()
