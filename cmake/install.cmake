# cmake/install.cmake - what `cmake --install` puts where, and how other builds find it.
# Included from the top-level CMakeLists.txt after every target is defined.
#
#   bin/                      mcz and every mcz-* tool
#   lib/                      libmczload.so (the loader, MCZ_API symbols only) and the static
#                             archives libmcz_load.a, libmcz_compress.a, libmcz_onnxpb.a
#   include/mcz/              load.h and the public libcompress headers
#   share/man/man1/           the man pages (docs/man/*.1)
#   lib/cmake/mcz/            mczConfig.cmake, mczConfigVersion.cmake, mczTargets.cmake:
#                               find_package(mcz 0.1) -> mcz::load (shared loader),
#                               mcz::load_static, mcz::compress (static, pulls load_static)
#   lib/pkgconfig/            mczload.pc, mczcompress.pc (relocatable: paths from ${pcfiledir})
#
# The package is relocatable: `cmake --install BUILD --prefix ANYWHERE` works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MCZ_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mcz)
set(MCZ_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- tools ---------------------------------------------------------------------------------
# the user commands (cmake/tools.cmake); test programs are not installed
mcz_tool_targets(_mcz_tools)
foreach(_t ${_mcz_tools})
  install(TARGETS ${_t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()

# ---- libraries -----------------------------------------------------------------------------
# The targets take their headers from the source tree; an installed target must not. Wrap each
# include folder in $<BUILD_INTERFACE:...> (the installed one comes from INCLUDES DESTINATION).
function(_mcz_build_only_includes tgt)
  get_target_property(_inc ${tgt} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT _inc)
    return()
  endif()
  set(_wrapped)
  foreach(_d IN LISTS _inc)
    if(_d MATCHES "^\\$<")
      list(APPEND _wrapped "${_d}")
    else()
      list(APPEND _wrapped "$<BUILD_INTERFACE:${_d}>")
    endif()
  endforeach()
  set_property(TARGET ${tgt} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${_wrapped}")
endfunction()

set(_mcz_libs mcz_load_shared mcz_load mcz_compress mcz_onnxpb)
foreach(_l ${_mcz_libs})
  _mcz_build_only_includes(${_l})
endforeach()
# names in the package: mcz::load is the shared loader users link into their applications
set_target_properties(mcz_load_shared PROPERTIES EXPORT_NAME load)
set_target_properties(mcz_load PROPERTIES EXPORT_NAME load_static)
set_target_properties(mcz_compress PROPERTIES EXPORT_NAME compress)
set_target_properties(mcz_onnxpb PROPERTIES EXPORT_NAME onnxpb) # libcompress's protobuf-c code

install(TARGETS ${_mcz_libs} EXPORT mczTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# ---- headers and man pages -----------------------------------------------------------------
file(GLOB _mcz_public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/libcompress/include/mcz/*.h)
install(FILES ${PROJECT_SOURCE_DIR}/formats/mcz/include/mcz/load.h ${_mcz_public_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mcz)
file(GLOB _mcz_man_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.1)
install(FILES ${_mcz_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# ---- find_package(mcz) ---------------------------------------------------------------------
install(EXPORT mczTargets NAMESPACE mcz:: FILE mczTargets.cmake
        DESTINATION ${MCZ_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mczConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/mczConfig.cmake
                              INSTALL_DESTINATION ${MCZ_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/mczConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/mczConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/mczConfigVersion.cmake
        DESTINATION ${MCZ_INSTALL_CMAKEDIR})

# ---- pkg-config ----------------------------------------------------------------------------
# prefix is found from the .pc file's own folder, so the package can be moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MCZ_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(MCZ_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _rel "/_p/${MCZ_INSTALL_PKGCONFIGDIR}" "/_p")
  string(REGEX REPLACE "/$" "" _rel "${_rel}")
  set(MCZ_PC_PREFIX "\${pcfiledir}/${_rel}")
  set(MCZ_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(MCZ_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(MCZ_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
foreach(_pc mczload mczcompress)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${_pc}.pc.in ${PROJECT_BINARY_DIR}/cmake/${_pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/${_pc}.pc DESTINATION ${MCZ_INSTALL_PKGCONFIGDIR})
endforeach()

# ---- the dynamic linker's cache ------------------------------------------------------------
# A system prefix (/usr, /usr/local) installs libmczload.so.0 where the dynamic linker looks,
# but it finds a new library only once ldconfig has refreshed its cache: run it then, as
# `make install` of other libraries does. Staged installs (DESTDIR) and private prefixes are
# left alone: docs/loader.md says what to do there.
install(CODE [[
if("$ENV{DESTDIR}" STREQUAL "" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr(/local)?/?$")
  find_program(_mcz_ldconfig ldconfig PATHS /sbin /usr/sbin NO_CACHE)
  if(_mcz_ldconfig)
    execute_process(COMMAND ${_mcz_ldconfig} RESULT_VARIABLE _mcz_rc ERROR_QUIET)
    if(NOT _mcz_rc EQUAL 0)
      message(WARNING "ldconfig failed: run it as root, or programs will not find libmczload.so.0")
    endif()
  endif()
endif()
]])
