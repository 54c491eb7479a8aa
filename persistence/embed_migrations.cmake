# Writes every persistence/migrations/*.sql into a C++ source, so the node binary carries its
# own schema. Runs at configure time; each file is a configure dependency.
file(GLOB migration_files CONFIGURE_DEPENDS "${MIGRATIONS_DIR}/*.sql")
list(SORT migration_files)
set(body "")
foreach(path IN LISTS migration_files)
  get_filename_component(name "${path}" NAME)
  file(READ "${path}" sql)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
  string(APPEND body "  {\"${name}\", R\"bookstore_sql(${sql})bookstore_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from persistence/migrations/*.sql by embed_migrations.cmake. Do not edit.\n"
  "#include \"persistence/postgres/migrations.hpp\"\n"
  "namespace bookstore::pg {\n"
  "const std::vector<migration>& embedded_migrations() {\n"
  "  static const std::vector<migration> all{\n${body}  };\n"
  "  return all;\n}\n}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
