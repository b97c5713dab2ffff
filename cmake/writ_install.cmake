# Install rules for the SDK: headers, static libraries and a CMake package, so
# another project can `find_package(writ)` and link `writ::sdk`.
#
#   writ_install_sdk(writ_base writ_crypto ...)   once, after the libraries exist
#
# Each library writ_<name> is installed as writ::<name> (also an alias in this
# build), its headers from sdk/include/writ/<name>/, and the umbrella writ::sdk
# links them all. The packages writConfig.cmake looks for are read off the
# libraries' link interfaces, so an installed library that links CURL::libcurl
# or PkgConfig::GRPCPP makes the package find CURL or grpc++ with nothing else
# to edit.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WRIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/writ")

# _writ_dependency_of sets `out` to the writConfig.cmake line that provides the
# imported target `dep`; fails the configure for a namespace it does not know.
function(_writ_dependency_of dep out)
  string(REGEX MATCH "^[^:]+" namespace "${dep}")
  if(namespace STREQUAL "OpenSSL")
    set(line "find_dependency(OpenSSL 3.0)")
  elseif(namespace STREQUAL "absl")
    set(line "find_dependency(absl)")
  elseif(namespace STREQUAL "Threads")
    set(line "find_dependency(Threads)")
  elseif(namespace STREQUAL "CURL")
    set(line "find_dependency(CURL)")
  elseif(namespace STREQUAL "gRPC")
    set(line "find_dependency(gRPC)")
  elseif(namespace STREQUAL "PkgConfig")
    # pkg_check_modules(<PREFIX> IMPORTED_TARGET <module>) made PkgConfig::<PREFIX>.
    string(REGEX REPLACE "^PkgConfig::" "" prefix "${dep}")
    if(NOT ${prefix}_MODULE_NAME)
      message(FATAL_ERROR "writ_install_sdk: no pkg-config module is known for ${dep}")
    endif()
    if(${prefix}_MODULE_NAME STREQUAL "grpc++")
      # gRPC's own CMake package gives the same libraries: finding it took
      # 1 s where pkg_check_modules(grpc++) took 45 s (2 busy cores).
      set(line "_writ_target_from_package(${dep} gRPC gRPC::grpc++)")
    else()
      set(line "_writ_pkg_dependency(${prefix} ${${prefix}_MODULE_NAME})")
    endif()
  else()
    message(FATAL_ERROR "writ_install_sdk: an installed SDK library links ${dep}; add the "
                        "package that provides it to _writ_dependency_of in ${CMAKE_CURRENT_FUNCTION_LIST_FILE}")
  endif()
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

# _writ_collect_dependencies appends to `out` the writConfig.cmake lines for
# what `lib` links, publicly or privately (a static library's private
# dependencies are linked by its consumers too), and checks that every Writ
# library it links is installed as well.
function(_writ_collect_dependencies lib installed out)
  set(lines ${${out}})
  get_target_property(private ${lib} LINK_LIBRARIES)
  get_target_property(interface ${lib} INTERFACE_LINK_LIBRARIES)
  foreach(item IN LISTS private interface)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    if(item STREQUAL "" OR item MATCHES "-NOTFOUND$")
      continue()
    elseif(item MATCHES "^\\$<")
      message(FATAL_ERROR "writ_install_sdk: ${lib} links '${item}'; generator expressions "
                          "other than LINK_ONLY are not handled here")
    elseif(TARGET ${item})
      get_target_property(aliased ${item} ALIASED_TARGET)
      if(aliased)
        set(item ${aliased})
      endif()
      get_target_property(imported ${item} IMPORTED)
      if(imported)
        _writ_dependency_of(${item} line)
        list(APPEND lines "${line}")
      elseif(NOT item IN_LIST installed)
        message(FATAL_ERROR "writ_install_sdk: ${lib} links ${item}, which is not installed: "
                            "add ${item} to writ_install_sdk() in sdk/CMakeLists.txt, or drop the "
                            "dependency (the SDK must not need the issuer's libraries)")
      endif()
    elseif(item MATCHES "::")
      message(FATAL_ERROR "writ_install_sdk: ${lib} links ${item}, which is not a target")
    endif()
    # Anything else is a system library name or a linker flag: exported as is.
  endforeach()
  set(${out} ${lines} PARENT_SCOPE)
endfunction()

function(writ_install_sdk)
  get_property(done GLOBAL PROPERTY WRIT_SDK_TARGETS SET)
  if(done)
    message(FATAL_ERROR "writ_install_sdk: call it once, with every installed SDK library")
  endif()
  set(libs ${ARGN})
  # absl::synchronization needs pthreads; absl's own package finds Threads
  # too, this keeps it explicit.
  set(dependencies "find_dependency(Threads)")
  set(names)
  set(headers)
  foreach(lib IN LISTS libs)
    if(NOT TARGET ${lib})
      message(FATAL_ERROR "writ_install_sdk: ${lib} is not a target (call after add_subdirectory)")
    endif()
    get_target_property(type ${lib} TYPE)
    if(NOT lib MATCHES "^writ_(.+)$" OR NOT type STREQUAL "STATIC_LIBRARY")
      message(FATAL_ERROR "writ_install_sdk: ${lib} must be a writ_<name> static library")
    endif()
    set(name ${CMAKE_MATCH_1})
    set(header_dir "${PROJECT_SOURCE_DIR}/sdk/include/writ/${name}")
    if(NOT IS_DIRECTORY "${header_dir}")
      message(FATAL_ERROR "writ_install_sdk: ${lib}'s public headers belong in ${header_dir}")
    endif()
    file(GLOB_RECURSE lib_headers CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}/sdk/include"
         "${header_dir}/*.h")
    list(APPEND headers ${lib_headers})
    list(APPEND names ${name})

    # PIC so a consumer can link the archives into a shared library too.
    set_target_properties(${lib} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
    # The headers are C++20 code, as the libraries were compiled.
    target_compile_features(${lib} PUBLIC cxx_std_20)
    add_library(writ::${name} ALIAS ${lib})
    install(DIRECTORY "${header_dir}/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/writ/${name}"
            COMPONENT sdk FILES_MATCHING PATTERN "*.h")
    _writ_collect_dependencies(${lib} "${libs}" dependencies)
  endforeach()
  list(REMOVE_DUPLICATES dependencies)
  list(JOIN dependencies "\n" WRIT_FIND_DEPENDENCIES)

  add_library(writ_sdk INTERFACE)
  target_link_libraries(writ_sdk INTERFACE ${libs})
  set_target_properties(writ_sdk PROPERTIES EXPORT_NAME sdk)
  add_library(writ::sdk ALIAS writ_sdk)

  install(TARGETS ${libs} writ_sdk EXPORT writTargets
          ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sdk)
  install(EXPORT writTargets NAMESPACE writ:: DESTINATION "${WRIT_INSTALL_CMAKEDIR}"
          COMPONENT sdk)
  configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/writConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/writConfig.cmake" INSTALL_DESTINATION "${WRIT_INSTALL_CMAKEDIR}")
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/writConfigVersion.cmake"
    VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
  install(FILES "${PROJECT_BINARY_DIR}/writConfig.cmake"
                "${PROJECT_BINARY_DIR}/writConfigVersion.cmake"
          DESTINATION "${WRIT_INSTALL_CMAKEDIR}" COMPONENT sdk)

  # For tests/install: what a consumer of the installed package should see.
  set_property(GLOBAL PROPERTY WRIT_SDK_TARGETS ${names})
  set_property(GLOBAL PROPERTY WRIT_SDK_HEADERS ${headers})
endfunction()
