# Helpers that keep the per-folder CMake files short.
#
#   writ_library(NAME SRCS a.cc b.cc DEPS lib1 lib2)
#   writ_test(NAME SRCS a_test.cc DEPS lib1 [ARGS ...] [LABELS unit])
#   writ_executable(NAME SRCS main.cc DEPS lib1)
#   writ_use_allocator(NAME)   link WRIT_MALLOC's allocator (top-level CMakeLists.txt)
#
# Every target gets the project's warnings (-Wall -Wextra -Werror) and, when
# WRIT_SANITIZE is on, ASan + UBSan. Installing the SDK: cmake/writ_install.cmake.

include(${CMAKE_CURRENT_LIST_DIR}/writ_install.cmake)

set(WRIT_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
# RapidJSON 1.1.0 (Debian, header-only, so inlined wherever it is used) adds
# an offset to a null pointer when its internal stack first grows (fixed
# upstream after the release): UBSan's pointer-overflow check is off, the
# rest of UBSan stays on.
set(WRIT_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=pointer-overflow
    -fno-sanitize-recover=all -fno-omit-frame-pointer)

function(writ_apply_flags target)
  target_compile_options(${target} PRIVATE ${WRIT_WARNINGS})
  if(WRIT_SANITIZE)
    target_compile_options(${target} PRIVATE ${WRIT_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${WRIT_SANITIZER_FLAGS})
  endif()
endfunction()

function(writ_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/sdk/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
  writ_apply_flags(${name})
endfunction()

function(writ_executable name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  writ_apply_flags(${name})
endfunction()

# tcmalloc is linked whatever --as-needed (Debian's default) decides: it is
# used only through malloc and operator new, which it takes over, so a link
# order in which another library satisfied them first would drop it. The
# smoke test checks the result (tests/smoke/).
set(CMAKE_LINK_LIBRARY_USING_writ_no_as_needed
    "LINKER:--push-state,--no-as-needed" "<LINK_ITEM>" "LINKER:--pop-state")
set(CMAKE_LINK_LIBRARY_USING_writ_no_as_needed_SUPPORTED TRUE)

function(writ_use_allocator target)
  if(WRIT_MALLOC_USED STREQUAL "tcmalloc")
    target_link_libraries(${target} PRIVATE
                          "$<LINK_LIBRARY:writ_no_as_needed,${TCMALLOC_LINK_LIBRARIES}>")
  endif()
endfunction()

function(writ_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;ARGS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main
                        GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    WRIT_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata")
  writ_apply_flags(${name})
  add_test(NAME ${name} COMMAND ${name} ${ARG_ARGS})
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  else()
    set_tests_properties(${name} PROPERTIES LABELS unit)
  endif()
endfunction()
