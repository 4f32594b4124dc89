# Run by `cmake --install` (install(CODE) in the top CMakeLists.txt), not at
# configure time: the units name the installed binary, and the prefix is only
# known now (`cmake --install build --prefix /usr` changes it after configure).
# In:  NSGATE_UNITS_IN   the directory of the *.service.in templates
#      NSGATE_UNITS_OUT  a directory of the build tree for the made units
#      NSGATE_SBINDIR, NSGATE_DOCDIR  GNUInstallDirs' values, relative to the
#                        prefix unless the user gave absolute ones
#      NSGATE_UNITDIR    where the units go, the same way (lib/systemd/system)
# Out: UNITDIR/*.service (DESTDIR applies, as for the rest).

function(nsgate_full_dir var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

nsgate_full_dir(sbindir "${NSGATE_SBINDIR}")
nsgate_full_dir(docdir "${NSGATE_DOCDIR}")
nsgate_full_dir(unitdir "${NSGATE_UNITDIR}")
file(GLOB templates "${NSGATE_UNITS_IN}/*.service.in")
foreach(template ${templates})
  get_filename_component(unit "${template}" NAME)
  string(REGEX REPLACE "\\.in$" "" unit "${unit}")
  file(READ "${template}" text)
  # Plain replacements, not configure_file: the units hold other @words
  # (SystemCallFilter=~@clock ...).
  string(REPLACE "@SBINDIR@" "${sbindir}" text "${text}")
  string(REPLACE "@DOCDIR@" "${docdir}" text "${text}")
  if(text MATCHES "@[A-Z_]+@")
    message(FATAL_ERROR "${template}: ${CMAKE_MATCH_0} is not replaced by conf/install-units.cmake")
  endif()
  file(WRITE "${NSGATE_UNITS_OUT}/${unit}" "${text}")
  file(INSTALL "${NSGATE_UNITS_OUT}/${unit}" DESTINATION "${unitdir}"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
