// Parsing of Hub model references and the choice of a GGUF file per quant tag.
#include "hub/model_ref.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace qwen3::hub {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ORG and NAME as the Hub allows them: letters, digits, '-', '_', '.'; no "..", no
// leading '.' or '-', at most 96 characters each.
bool valid_part(const std::string& p) {
  if (p.empty() || p.size() > 96 || p[0] == '.' || p[0] == '-') return false;
  if (p.find("..") != std::string::npos) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}
bool valid_quant(const std::string& q) {
  return !q.empty() && q.size() <= 32 && std::all_of(q.begin(), q.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}
bool valid_revision(const std::string& r) {
  return !r.empty() && r.size() <= 128 && r.find("..") == std::string::npos && r[0] != '/' &&
         std::all_of(r.begin(), r.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                  c == '/';
         });
}

std::string file_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The quant tag of a GGUF file name: the part after the last '-' or '.' before ".gguf".
std::string quant_of(const std::string& path) {
  std::string n = file_name(path);
  n = n.substr(0, n.size() - 5);
  const size_t cut = n.find_last_of("-.");
  return cut == std::string::npos ? std::string() : upper(n.substr(cut + 1));
}

bool is_split_part(const std::string& path) {
  const std::string n = lower(file_name(path));
  const size_t of = n.rfind("-of-");
  return of != std::string::npos && of >= 6 && n[of - 6] == '-' &&
         std::all_of(n.begin() + static_cast<long>(of) - 5, n.begin() + static_cast<long>(of),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

const std::vector<ShortName>& short_names() {
  static const std::vector<ShortName> names = {
      {"qwen3:0.6b", "Qwen/Qwen3-0.6B-GGUF"},       {"qwen3:1.7b", "Qwen/Qwen3-1.7B-GGUF"},
      {"qwen3:4b", "Qwen/Qwen3-4B-GGUF"},           {"qwen3:8b", "Qwen/Qwen3-8B-GGUF"},
      {"qwen3:14b", "Qwen/Qwen3-14B-GGUF"},         {"qwen3:32b", "Qwen/Qwen3-32B-GGUF"},
      {"qwen3:30b-a3b", "Qwen/Qwen3-30B-A3B-GGUF"},
  };
  return names;
}

bool is_model_ref(const std::string& text) {
  if (text.rfind("hf://", 0) == 0) return true;
  const std::string l = lower(text);
  for (const auto& s : short_names()) {
    const std::string n = s.name;
    if (l == n || l.rfind(n + "-", 0) == 0) return true;
  }
  return false;
}

ModelRef parse_model_ref(const std::string& text, bool allow_bare_repo) {
  ModelRef ref;
  ref.revision = "main";
  const std::string l = lower(text);
  for (const auto& s : short_names()) {
    const std::string n = s.name;
    if (l == n) {
      ref.repo = s.repo;
      return ref;
    }
    if (l.rfind(n + "-", 0) == 0) {  // qwen3:8b-q8_0
      ref.repo = s.repo;
      ref.quant = upper(text.substr(n.size() + 1));
      if (!valid_quant(ref.quant))
        throw std::invalid_argument("bad quant tag in model name '" + text + "'");
      return ref;
    }
  }
  std::string rest;
  if (text.rfind("hf://", 0) == 0)
    rest = text.substr(5);
  else if (allow_bare_repo)
    rest = text;
  else
    throw std::invalid_argument("'" + text + "' is not a model reference (hf://ORG/NAME[:QUANT])");
  if (const size_t at = rest.find('@'); at != std::string::npos) {
    ref.revision = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!valid_revision(ref.revision))
      throw std::invalid_argument("bad revision in '" + text + "'");
  }
  if (const size_t colon = rest.find(':'); colon != std::string::npos) {
    ref.quant = upper(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_quant(ref.quant)) throw std::invalid_argument("bad quant tag in '" + text + "'");
  }
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos ||
      !valid_part(rest.substr(0, slash)) || !valid_part(rest.substr(slash + 1)))
    throw std::invalid_argument("bad repository in '" + text +
                                "': expected ORG/NAME, e.g. hf://Qwen/Qwen3-8B-GGUF:Q4_K_M");
  ref.repo = rest;
  return ref;
}

std::string pick_gguf_file(const std::vector<std::string>& files, const std::string& quant,
                           const std::string& repo) {
  std::vector<std::string> ggufs;
  for (const auto& f : files)
    if (ends_with(lower(f), ".gguf") && lower(file_name(f)).find("mmproj") == std::string::npos)
      ggufs.push_back(f);
  std::sort(ggufs.begin(), ggufs.end());
  auto find = [&](const std::string& q) -> std::vector<std::string> {
    std::vector<std::string> hits;
    for (const auto& f : ggufs)
      if (quant_of(f) == q ||
          (is_split_part(f) && lower(file_name(f)).find(lower(q)) != std::string::npos))
        hits.push_back(f);
    return hits;
  };
  auto single = [&](const std::vector<std::string>& hits) -> std::string {
    for (const auto& h : hits)
      if (is_split_part(h))
        throw std::runtime_error(repo + ": " + file_name(h) +
                                 " is split into several files, which is not supported yet; "
                                 "merge it with llama.cpp's gguf-split --merge");
    return hits.front();
  };
  if (ggufs.empty()) throw std::runtime_error(repo + " has no GGUF file");
  if (!quant.empty()) {
    auto hits = find(quant);
    if (!hits.empty()) return single(hits);
    std::string have;
    for (const auto& f : ggufs) have += (have.empty() ? "" : ", ") + quant_of(f);
    throw std::runtime_error(repo + " has no " + quant + " file; it has: " + have);
  }
  for (const char* q : {"Q4_K_M", "Q8_0"})
    if (auto hits = find(q); !hits.empty()) return single(hits);
  return single(ggufs);
}

}  // namespace qwen3::hub
