# HTTP client library, included from this folder's CMakeLists.txt. Beast/Asio stay in client.cc.
add_library(emporium_http_client STATIC ${CMAKE_CURRENT_LIST_DIR}/client.cc)
target_link_libraries(emporium_http_client PUBLIC emporium_core emporium_http PRIVATE Boost::headers)
