// Router: exact-path table with per-path method sets.
#include "server/http_router.h"

namespace qwen3::server {

void Router::add(const std::string& method, const std::string& path, Route route) {
  routes_[path][method] = std::move(route);
}

const Route* Router::find(const std::string& method, const std::string& path,
                          std::string* allow) const {
  if (allow) allow->clear();
  auto p = routes_.find(path);
  if (p == routes_.end()) return nullptr;
  if (allow) {
    for (const auto& m : p->second) *allow += (allow->empty() ? "" : ", ") + m.first;
  }
  auto m = p->second.find(method);
  return m == p->second.end() ? nullptr : &m->second;
}

}  // namespace qwen3::server
