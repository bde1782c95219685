// Build tool: converts a YAML document (docs/openapi.yaml) to compact JSON and writes a C++ file
// defining emporium::OpenApiJson(). Fails the build on invalid YAML.
//   yaml2json INPUT.yaml OUTPUT.cc
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>

namespace {

boost::json::value Convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object o;
      for (const auto& kv : n) o[kv.first.as<std::string>()] = Convert(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array a;
      for (const auto& x : n) a.push_back(Convert(x));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return boost::json::string(s);  // quoted: always a string
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      try {
        size_t used = 0;
        long long i = std::stoll(s, &used);
        if (used == s.size()) return i;
        double d = std::stod(s, &used);
        if (used == s.size()) return d;
      } catch (const std::exception&) {
      }
      return boost::json::string(s);
    }
    default: return nullptr;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: yaml2json INPUT.yaml OUTPUT.cc\n";
    return 2;
  }
  try {
    std::string json = boost::json::serialize(Convert(YAML::LoadFile(argv[1])));
    std::ofstream out(argv[2]);
    out << "// Generated from " << argv[1] << " by tools/yaml2json. Do not edit.\n"
        << "#include \"platform/module/openapi_doc.h\"\n"
        << "namespace emporium {\n"
        << "std::string_view OpenApiJson() {\n"
        << "  static constexpr std::string_view kDoc = R\"emporium_openapi(" << json
        << ")emporium_openapi\";\n"
        << "  return kDoc;\n}\n}  // namespace emporium\n";
    return out ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "yaml2json: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
}
