# Writes OUT (a header defining NSGATE_COMMIT) from `git describe` of SRC at
# build time, rewriting it only when the text changes, so only what
# includes it is rebuilt, and only after a new commit. COMMIT, when set
# (a build from a tarball), wins over git.
if(NOT COMMIT)
  execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD
    OUTPUT_VARIABLE COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT COMMIT)
    set(COMMIT "unknown")
  else()
    execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
      OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(dirty)
      set(COMMIT "${COMMIT}-dirty")
    endif()
  endif()
endif()
set(text "#define NSGATE_COMMIT \"${COMMIT}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
