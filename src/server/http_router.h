// Routes by method and exact path. Tells apart an unknown path (404) from a known path
// asked with the wrong method (405, with the methods it has for the Allow header), and
// knows per route whether it needs the API key and a JSON body, so those checks run
// before the body is read.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "server/http_message.h"

namespace qwen3::server {

using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;

struct Route {
  Handler handler;
  bool open = false;  // served without the API key (health, the web page)
};

class Router {
 public:
  void Get(const std::string& path, Route route) { add("GET", path, std::move(route)); }
  void Post(const std::string& path, Route route) { add("POST", path, std::move(route)); }
  void add(const std::string& method, const std::string& path, Route route);

  // The route for method + path, or null; `allow` gets the path's methods
  // ("GET, POST"), empty for an unknown path.
  const Route* find(const std::string& method, const std::string& path, std::string* allow) const;

 private:
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
};

}  // namespace qwen3::server
