// The Python module `qwen3_runtime`: qwen3::Pipeline under OpenVINO GenAI's Python names
// (LLMPipeline, GenerationConfig, StreamerBase, DecodedResults, PerfMetrics, Tokenizer),
// so an app written for `openvino_genai` runs by changing only its import. Why pybind11
// over the C++ API: the classes, optional fields and Python subclasses of StreamerBase map
// one to one; the GIL is released while the model runs and taken back for callbacks.
// docs/python.md lists what is covered and how it differs.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "device/config_builder.h"
#include "device/config_validator.h"
#include "device/model_facts.h"
#include "device/profiles.h"
#include "qwen3/pipeline.h"
#include "qwen3/qwen3.h"

namespace py = pybind11;
namespace device = qwen3::device;

namespace {

// OpenVINO GenAI's streaming verdicts: RUNNING goes on, STOP ends the reply and keeps it,
// CANCEL ends it too (here the turn also stays in the chat history; see docs/python.md).
enum class PyStreamingStatus { RUNNING = 0, STOP = 1, CANCEL = 2 };

// OpenVINO GenAI's GenerationConfig fields. A new config is greedy (do_sample False), as
// there; LLMPipeline.get_generation_config() starts from the model's own defaults instead.
struct PyGenerationConfig {
  std::size_t max_new_tokens = 1024;
  std::optional<std::size_t> max_length;  // prompt + reply; unused fields stay unset
  bool do_sample = false;
  float temperature = 1.0f;
  float top_p = 1.0f;
  std::size_t top_k = 0;  // 0 = off (OpenVINO GenAI uses "all" for the same)
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::set<std::string> stop_strings;
  bool ignore_eos = false;
  bool apply_chat_template = true;
  std::optional<std::uint64_t> rng_seed;
  // Our extras.
  std::optional<bool> enable_thinking;
  std::optional<std::size_t> thinking_budget;
  std::optional<std::string> json_schema;
  std::optional<std::string> regex;
  std::optional<std::string> grammar;

  qwen3::GenerationConfig to_native() const {
    qwen3::GenerationConfig c;
    c.max_new_tokens = max_new_tokens;
    if (do_sample) {
      c.temperature = temperature;
      c.top_p = top_p;
      c.top_k = static_cast<int>(top_k);
      c.min_p = min_p;
    } else {
      c.temperature = 0.0f;  // greedy
    }
    c.repetition_penalty = repetition_penalty;
    c.presence_penalty = presence_penalty;
    c.frequency_penalty = frequency_penalty;
    c.stop.assign(stop_strings.begin(), stop_strings.end());
    c.ignore_eos = ignore_eos;
    c.apply_chat_template = apply_chat_template;
    c.seed = rng_seed;
    c.enable_thinking = enable_thinking;
    c.thinking_budget = thinking_budget;
    if (json_schema || regex || grammar) {
      qwen3::StructuredOutputConfig s;
      s.json_schema = json_schema;
      s.regex = regex;
      s.grammar = grammar;
      c.structured_output = s;
    }
    c.validate();
    return c;
  }
};

// Python-visible perf metrics with OpenVINO GenAI's getters.
struct PyPerfMetrics {
  qwen3::PerfMetrics m;
};

struct PyMeanStd {
  double mean = 0.0;
  double std = 0.0;
};

PyMeanStd pair(const qwen3::MeanStd& v) {
  return {v.mean, v.std};
}

struct PyToolCall {
  std::string id, name, arguments;
};

struct PyDecodedResults {
  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<std::string> reasoning;
  std::vector<std::vector<PyToolCall>> tool_calls;
  std::vector<std::string> finish_reasons;
  PyPerfMetrics perf_metrics;
};

// The streamer Python subclasses: put(token_id) -> bool (True stops), or the newer
// write(token) -> StreamingStatus, and end(). Our extras: on_reasoning/on_content(text).
class PyStreamerBase {
 public:
  virtual ~PyStreamerBase() = default;
  virtual bool put(std::int64_t /*token*/) { return false; }
  virtual py::object write(py::object token) {
    bool stop = false;
    if (py::isinstance<py::int_>(token)) {
      stop = put(token.cast<std::int64_t>());
    } else {
      for (auto t : token) stop = put(t.cast<std::int64_t>()) || stop;
    }
    return py::cast(stop ? PyStreamingStatus::STOP : PyStreamingStatus::RUNNING);
  }
  virtual void end() {}
  virtual py::object on_reasoning(const std::string&) { return py::none(); }
  virtual py::object on_content(const std::string&) { return py::none(); }
};

class PyStreamerTrampoline : public PyStreamerBase {
 public:
  bool put(std::int64_t token) override { PYBIND11_OVERRIDE(bool, PyStreamerBase, put, token); }
  py::object write(py::object token) override {
    PYBIND11_OVERRIDE(py::object, PyStreamerBase, write, token);
  }
  void end() override { PYBIND11_OVERRIDE(void, PyStreamerBase, end, ); }
  py::object on_reasoning(const std::string& t) override {
    PYBIND11_OVERRIDE(py::object, PyStreamerBase, on_reasoning, t);
  }
  py::object on_content(const std::string& t) override {
    PYBIND11_OVERRIDE(py::object, PyStreamerBase, on_content, t);
  }
};

// True if a streamer's return value asks to stop: True, STOP or CANCEL.
bool wants_stop(const py::object& r) {
  if (r.is_none()) return false;
  if (py::isinstance<PyStreamingStatus>(r))
    return r.cast<PyStreamingStatus>() != PyStreamingStatus::RUNNING;
  if (py::isinstance<py::bool_>(r)) return r.cast<bool>();
  if (py::isinstance<py::int_>(r)) return r.cast<int>() != 0;
  return false;
}

// Bridges the native streamer (called on the generating thread, GIL released) to a Python
// StreamerBase or callable. Checks for Ctrl-C at every token; a Python exception stops the
// generation and is raised again when generate() returns.
class Bridge : public qwen3::StreamerBase {
 public:
  Bridge(py::object target, bool is_streamer)
      : target_(std::move(target)), streamer_(is_streamer) {}

  qwen3::StreamingStatus on_token(std::int32_t id) override {
    py::gil_scoped_acquire gil;
    return guard([&] {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (!streamer_ || target_.is_none()) return false;
      return wants_stop(target_.attr("write")(py::int_(id)));
    });
  }
  qwen3::StreamingStatus on_reasoning(std::string_view d) override { return text(d, true); }
  qwen3::StreamingStatus on_content(std::string_view d) override { return text(d, false); }
  void on_end(qwen3::FinishReason) override {
    if (!streamer_ || target_.is_none()) return;
    py::gil_scoped_acquire gil;
    guard([&] {
      target_.attr("end")();
      return false;
    });
  }
  // Raises what a callback raised (call with the GIL held).
  void rethrow() {
    if (error_) {
      error_->restore();
      error_.reset();
      throw py::error_already_set();
    }
  }

 private:
  template <typename F>
  qwen3::StreamingStatus guard(F&& f) {
    if (error_) return qwen3::StreamingStatus::kStop;
    try {
      return f() ? qwen3::StreamingStatus::kStop : qwen3::StreamingStatus::kContinue;
    } catch (py::error_already_set& e) {
      error_ = std::make_unique<py::error_already_set>(std::move(e));
      return qwen3::StreamingStatus::kStop;
    }
  }
  qwen3::StreamingStatus text(std::string_view d, bool reasoning) {
    if (target_.is_none()) return qwen3::StreamingStatus::kContinue;
    py::gil_scoped_acquire gil;
    return guard([&] {
      const py::str s(d.data(), d.size());
      if (streamer_) return wants_stop(target_.attr(reasoning ? "on_reasoning" : "on_content")(s));
      return wants_stop(target_(s));  // a plain callable gets all visible text
    });
  }

  py::object target_;
  bool streamer_;
  std::unique_ptr<py::error_already_set> error_;
};

struct PyTokenizedInputs {
  std::vector<std::vector<std::int64_t>> input_ids;
  std::vector<std::vector<std::int64_t>> attention_mask;
};

// One loaded model. Calls on one LLMPipeline from several Python threads run one at a time.
class PyLLMPipeline {
 public:
  PyLLMPipeline(const std::string& path, const std::string& device,
                const qwen3::Properties& props) {
    py::gil_scoped_release nogil;
    pipe_ = std::make_unique<qwen3::Pipeline>(path, device, props);
  }

  PyDecodedResults generate(const py::object& inputs, std::optional<PyGenerationConfig> cfg,
                            const py::object& streamer, const py::kwargs& kwargs) {
    PyGenerationConfig config = cfg ? *cfg : generation_config_;
    if (kwargs.size() > 0) {
      py::object c = py::cast(config);
      for (auto kv : kwargs) {
        const std::string key = kv.first.cast<std::string>();
        if (!py::hasattr(c, key.c_str()))
          throw py::value_error("unknown generation option '" + key + "'");
        c.attr(key.c_str()) = kv.second;
      }
      config = c.cast<PyGenerationConfig>();
    }
    const qwen3::GenerationConfig native = config.to_native();
    std::vector<std::string> prompts;
    if (py::isinstance<py::str>(inputs))
      prompts.push_back(inputs.cast<std::string>());
    else
      prompts = inputs.cast<std::vector<std::string>>();
    const bool is_streamer = py::isinstance<PyStreamerBase>(streamer);
    if (!streamer.is_none() && !is_streamer && !PyCallable_Check(streamer.ptr()))
      throw py::type_error("streamer must be a StreamerBase or a callable taking a str");

    PyDecodedResults out;
    for (const auto& prompt : prompts) {
      Bridge bridge(streamer, is_streamer);
      qwen3::DecodedResult r;
      {
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(mu_);
        r = pipe_->generate(prompt, native, &bridge);
      }
      bridge.rethrow();
      out.texts.push_back(r.text);
      out.scores.push_back(0.0f);
      out.reasoning.push_back(r.reasoning);
      std::vector<PyToolCall> calls;
      for (const auto& c : r.tool_calls) calls.push_back({c.id, c.name, c.arguments});
      out.tool_calls.push_back(std::move(calls));
      out.finish_reasons.push_back(qwen3::to_string(r.finish_reason));
      out.perf_metrics.m += r.perf_metrics;
    }
    out.perf_metrics.m.load_time_ms = pipe_->session_metrics().load_time_ms;
    return out;
  }

  void start_chat(const std::string& system) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu_);
    pipe_->start_chat(system);
  }
  void finish_chat() {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu_);
    pipe_->finish_chat();
  }

  PyGenerationConfig get_generation_config() const { return generation_config_; }
  void set_generation_config(const PyGenerationConfig& c) {
    c.to_native();  // validates
    generation_config_ = c;
  }
  // The model's own sampling defaults (do_sample on), as OpenVINO GenAI reads them from
  // generation_config.json; the Qwen3 model card's where the model says nothing.
  void init_generation_config() {
    const auto& d = pipe_->model_defaults();
    const auto card = qwen3::GenerationConfig::qwen3_defaults(true);
    generation_config_.do_sample = !(d.temperature && *d.temperature <= 0.0f);
    generation_config_.temperature = d.temperature.value_or(*card.temperature);
    generation_config_.top_p = d.top_p.value_or(*card.top_p);
    generation_config_.top_k = static_cast<std::size_t>(d.top_k.value_or(*card.top_k));
    generation_config_.min_p = d.min_p.value_or(*card.min_p);
    generation_config_.repetition_penalty = d.repetition_penalty.value_or(1.0f);
    generation_config_.presence_penalty = d.presence_penalty.value_or(0.0f);
  }

  const qwen3::Pipeline& pipe() const { return *pipe_; }

 private:
  std::unique_ptr<qwen3::Pipeline> pipe_;
  PyGenerationConfig generation_config_;
  std::mutex mu_;
};

// The tokenizer of a pipeline (kept alive by it).
struct PyTokenizer {
  std::shared_ptr<PyLLMPipeline> owner;

  // Special-token text is parsed, as Hugging Face tokenizers (and OpenVINO's) do;
  // add_special_tokens (a BOS/EOS added around the text) changes nothing: Qwen3 adds none.
  PyTokenizedInputs encode(const py::object& text, bool /*add_special_tokens*/) const {
    std::vector<std::string> texts;
    if (py::isinstance<py::str>(text))
      texts.push_back(text.cast<std::string>());
    else
      texts = text.cast<std::vector<std::string>>();
    PyTokenizedInputs out;
    for (const auto& t : texts) {
      const auto ids = owner->pipe().encode(t, true);
      out.input_ids.emplace_back(ids.begin(), ids.end());
      out.attention_mask.emplace_back(ids.size(), 1);
    }
    return out;
  }

  py::object decode(const py::object& tokens) const {
    auto one = [&](const py::handle& seq) {
      std::vector<std::int32_t> ids;
      for (auto t : seq) {
        const auto v = t.cast<std::int64_t>();
        if (v < 0 || v > INT32_MAX)
          throw py::value_error("token id out of range: " + std::to_string(v));
        ids.push_back(static_cast<std::int32_t>(v));
      }
      return owner->pipe().decode(ids);
    };
    py::list l = py::list(tokens);
    if (l.size() > 0 && !py::isinstance<py::int_>(l[0])) {
      std::vector<std::string> out;
      for (auto seq : l) out.push_back(one(seq));
      return py::cast(out);
    }
    return py::cast(one(l));
  }

  std::string apply_chat_template(const py::list& history, bool add_generation_prompt) const {
    qwen3::ChatHistory h;
    for (auto m : history) {
      auto d = m.cast<py::dict>();
      qwen3::ChatMessage msg;
      msg.role = d["role"].cast<std::string>();
      msg.content = d.contains("content") ? d["content"].cast<std::string>() : "";
      h.push_back(std::move(msg));
    }
    return owner->pipe().apply_chat_template(h, add_generation_prompt);
  }
};

// Properties from keyword arguments (and OpenVINO GenAI's `config=dict`): values as strings.
qwen3::Properties to_properties(const py::kwargs& kwargs) {
  qwen3::Properties props;
  auto add = [&](const std::string& k, const py::handle& v) {
    if (py::isinstance<py::bool_>(v))
      props[k] = v.cast<bool>() ? "true" : "false";
    else
      props[k] = py::str(v).cast<std::string>();
  };
  for (auto kv : kwargs) {
    const std::string key = kv.first.cast<std::string>();
    if (key == "config" && py::isinstance<py::dict>(kv.second)) {
      for (auto c : kv.second.cast<py::dict>()) add(c.first.cast<std::string>(), c.second);
    } else {
      add(key, kv.second);
    }
  }
  return props;
}

// Python values <-> JSON through Python's json module (dicts of str / int / float / bool).
nlohmann::json to_json(const py::handle& obj) {
  const std::string text = py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  return nlohmann::json::parse(text);
}
py::object from_json(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

device::Device device_arg(const std::string& name) {
  const auto d = device::parse_device(name);
  if (!d) throw py::value_error("unknown device '" + name + "' (NPU, GPU or CPU)");
  return *d;
}
device::ProfileLevel profile_arg(const std::string& name) {
  const auto p = device::parse_profile_level(name);
  if (!p)
    throw py::value_error("unknown profile '" + name + "' (conservative, balanced or aggressive)");
  return *p;
}

py::list findings_list(const std::vector<device::Finding>& findings) {
  return from_json(device::to_json(findings));
}

// `qwen3 device-config` from Python: the property map of a device profile, sized for the
// model when one is named, with overrides; the builder's and validator's findings.
py::dict build_device_config(const std::string& device, const std::string& profile,
                             const std::optional<std::string>& model,
                             const std::optional<std::string>& model_preset,
                             const std::optional<std::string>& quant,
                             const std::optional<int>& group_size, const py::dict& overrides,
                             int threads) {
  device::BuildRequest r;
  r.device = device_arg(device);
  r.level = profile_arg(profile);
  r.model = device::describe_model(model.value_or(""), model_preset.value_or(""),
                                   quant.value_or(""), group_size);
  for (auto kv : overrides) {
    const py::handle v = kv.second;
    std::string value = py::isinstance<py::bool_>(v) ? (v.cast<bool>() ? "true" : "false")
                                                     : py::str(v).cast<std::string>();
    r.overrides.emplace_back(kv.first.cast<std::string>(), value);
  }
  r.hardware_threads = threads;
  const device::BuildResult b = device::build_config(r);
  py::dict out;
  out["properties"] = from_json(b.properties);
  out["findings"] = findings_list(b.findings);
  out["errors"] = device::count(b.findings, device::Severity::Error);
  return out;
}

// `qwen3 device-config --validate` from Python: a property map (a dict, or a JSON file's
// path) checked for a device, the profile's KV budget and the model when named.
py::list validate_device_config(const py::object& properties, const std::string& device,
                                const std::string& profile, const std::optional<std::string>& model,
                                const std::optional<std::string>& model_preset, int threads) {
  nlohmann::json props;
  if (py::isinstance<py::str>(properties)) {
    const std::string path = properties.cast<std::string>();
    std::ifstream in(path);
    if (!in) throw py::value_error(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    props = nlohmann::json::parse(ss.str(), nullptr, false);
    if (props.is_discarded()) throw py::value_error(path + ": not valid JSON");
    // `qwen3 device-config --json` writes {"properties": {...}, ...}.
    if (props.is_object() && props.contains("properties") && props["properties"].is_object())
      props = props["properties"];
  } else {
    props = to_json(properties);
  }
  const device::ValidateOptions vo = device::profile_validate_options(
      device_arg(device), profile_arg(profile),
      device::describe_model(model.value_or(""), model_preset.value_or(""), "", std::nullopt),
      threads);
  return findings_list(device::validate_config(props, vo));
}

}  // namespace

PYBIND11_MODULE(qwen3_runtime, m) {
  m.doc() = "qwen3-runtime: Qwen3 models on the CPU, with OpenVINO GenAI's Python API names";
  m.attr("__version__") = qwen3_version();

  py::enum_<PyStreamingStatus>(m, "StreamingStatus")
      .value("RUNNING", PyStreamingStatus::RUNNING)
      .value("STOP", PyStreamingStatus::STOP)
      .value("CANCEL", PyStreamingStatus::CANCEL);

  py::class_<PyGenerationConfig>(m, "GenerationConfig")
      .def(py::init<>())
      .def(py::init([](const py::kwargs& kw) {
        PyGenerationConfig c;
        py::object o = py::cast(c);
        for (auto kv : kw) {
          const std::string key = kv.first.cast<std::string>();
          if (!py::hasattr(o, key.c_str()))
            throw py::value_error("unknown generation option '" + key + "'");
          o.attr(key.c_str()) = kv.second;
        }
        return o.cast<PyGenerationConfig>();
      }))
      .def_readwrite("max_new_tokens", &PyGenerationConfig::max_new_tokens)
      .def_readwrite("max_length", &PyGenerationConfig::max_length)
      .def_readwrite("do_sample", &PyGenerationConfig::do_sample)
      .def_readwrite("temperature", &PyGenerationConfig::temperature)
      .def_readwrite("top_p", &PyGenerationConfig::top_p)
      .def_readwrite("top_k", &PyGenerationConfig::top_k)
      .def_readwrite("min_p", &PyGenerationConfig::min_p)
      .def_readwrite("repetition_penalty", &PyGenerationConfig::repetition_penalty)
      .def_readwrite("presence_penalty", &PyGenerationConfig::presence_penalty)
      .def_readwrite("frequency_penalty", &PyGenerationConfig::frequency_penalty)
      .def_readwrite("stop_strings", &PyGenerationConfig::stop_strings)
      .def_readwrite("ignore_eos", &PyGenerationConfig::ignore_eos)
      .def_readwrite("apply_chat_template", &PyGenerationConfig::apply_chat_template)
      .def_readwrite("rng_seed", &PyGenerationConfig::rng_seed)
      .def_readwrite("enable_thinking", &PyGenerationConfig::enable_thinking)
      .def_readwrite("thinking_budget", &PyGenerationConfig::thinking_budget)
      .def_readwrite("json_schema", &PyGenerationConfig::json_schema)
      .def_readwrite("regex", &PyGenerationConfig::regex)
      .def_readwrite("grammar", &PyGenerationConfig::grammar)
      .def("validate", [](const PyGenerationConfig& c) { c.to_native(); })
      .def("is_greedy_decoding", [](const PyGenerationConfig& c) { return !c.do_sample; })
      .def("is_multinomial", [](const PyGenerationConfig& c) { return c.do_sample; });

  py::class_<PyMeanStd>(m, "MeanStdPair")
      .def_readonly("mean", &PyMeanStd::mean)
      .def_readonly("std", &PyMeanStd::std)
      .def("__repr__", [](const PyMeanStd& p) {
        std::ostringstream s;
        s << "MeanStdPair(mean=" << p.mean << ", std=" << p.std << ")";
        return s.str();
      });

  py::class_<PyPerfMetrics>(m, "PerfMetrics")
      .def("get_load_time", [](const PyPerfMetrics& p) { return p.m.load_time_ms; })
      .def("get_num_generated_tokens",
           [](const PyPerfMetrics& p) { return p.m.num_generated_tokens; })
      .def("get_num_input_tokens", [](const PyPerfMetrics& p) { return p.m.num_input_tokens; })
      .def("get_ttft", [](const PyPerfMetrics& p) { return pair(p.m.ttft_ms); })
      .def("get_tpot", [](const PyPerfMetrics& p) { return pair(p.m.tpot_ms); })
      .def("get_throughput", [](const PyPerfMetrics& p) { return pair(p.m.throughput_tps); })
      .def("get_generate_duration", [](const PyPerfMetrics& p) { return pair(p.m.generate_ms); })
      .def("get_tokenization_duration",
           [](const PyPerfMetrics& p) { return pair(p.m.tokenization_ms); })
      .def("get_prefill_throughput", [](const PyPerfMetrics& p) { return pair(p.m.prefill_tps); })
      .def("__add__",
           [](const PyPerfMetrics& a, const PyPerfMetrics& b) { return PyPerfMetrics{a.m + b.m}; });

  py::class_<PyToolCall>(m, "ToolCall")
      .def_readonly("id", &PyToolCall::id)
      .def_readonly("name", &PyToolCall::name)
      .def_readonly("arguments", &PyToolCall::arguments)
      .def("__repr__",
           [](const PyToolCall& c) { return "ToolCall(" + c.name + ", " + c.arguments + ")"; });

  py::class_<PyDecodedResults>(m, "DecodedResults")
      .def_readonly("texts", &PyDecodedResults::texts)
      .def_readonly("scores", &PyDecodedResults::scores)
      .def_readonly("perf_metrics", &PyDecodedResults::perf_metrics)
      .def_readonly("reasoning", &PyDecodedResults::reasoning)
      .def_readonly("tool_calls", &PyDecodedResults::tool_calls)
      .def_readonly("finish_reasons", &PyDecodedResults::finish_reasons)
      .def("__str__", [](const PyDecodedResults& r) {
        std::string s;
        for (std::size_t i = 0; i < r.texts.size(); ++i) s += (i ? "\n" : "") + r.texts[i];
        return s;
      });

  py::class_<PyStreamerBase, PyStreamerTrampoline>(m, "StreamerBase")
      .def(py::init<>())
      .def("put", &PyStreamerBase::put, py::arg("token"))
      .def("write", &PyStreamerBase::write, py::arg("token"))
      .def("end", &PyStreamerBase::end)
      .def("on_reasoning", &PyStreamerBase::on_reasoning, py::arg("text"))
      .def("on_content", &PyStreamerBase::on_content, py::arg("text"));

  py::class_<PyTokenizedInputs>(m, "TokenizedInputs")
      .def_readonly("input_ids", &PyTokenizedInputs::input_ids)
      .def_readonly("attention_mask", &PyTokenizedInputs::attention_mask);

  py::class_<PyTokenizer>(m, "Tokenizer")
      .def("encode", &PyTokenizer::encode, py::arg("prompts"), py::arg("add_special_tokens") = true)
      .def("decode", &PyTokenizer::decode, py::arg("tokens"))
      .def("apply_chat_template", &PyTokenizer::apply_chat_template, py::arg("history"),
           py::arg("add_generation_prompt") = true);

  py::class_<qwen3::TierAttempt>(m, "TierAttempt")
      .def_readonly("tier", &qwen3::TierAttempt::tier)
      .def_readonly("reason", &qwen3::TierAttempt::reason)
      .def("__repr__", [](const qwen3::TierAttempt& t) {
        return "TierAttempt(tier='" + t.tier + "', reason='" + t.reason + "')";
      });

  // qwen3::PipelineInfo: what serves the pipeline (our extra; GenAI has no counterpart).
  py::class_<qwen3::PipelineInfo>(m, "PipelineInfo")
      .def_readonly("backend", &qwen3::PipelineInfo::backend)
      .def_readonly("device", &qwen3::PipelineInfo::device)
      .def_readonly("n_ctx", &qwen3::PipelineInfo::n_ctx)
      .def_readonly("kv_reuse", &qwen3::PipelineInfo::kv_reuse)
      .def_readonly("tier", &qwen3::PipelineInfo::tier)
      .def_readonly("failed_tiers", &qwen3::PipelineInfo::failed_tiers)
      .def_readonly("handoff", &qwen3::PipelineInfo::handoff)
      .def_readonly("max_prompt_tokens", &qwen3::PipelineInfo::max_prompt_tokens)
      .def("__repr__", [](const qwen3::PipelineInfo& i) {
        return "PipelineInfo(backend='" + i.backend + "', device='" + i.device + "', tier='" +
               i.tier + "', n_ctx=" + std::to_string(i.n_ctx) + ", handoff='" + i.handoff +
               "', failed_tiers=" + std::to_string(i.failed_tiers.size()) + ")";
      });

  m.def("device_config", &build_device_config, py::arg("device") = "NPU",
        py::arg("profile") = "balanced", py::arg("model") = py::none(),
        py::arg("model_preset") = py::none(), py::arg("quant") = py::none(),
        py::arg("group_size") = py::none(), py::arg("overrides") = py::dict(),
        py::arg("threads") = 0,
        "The OpenVINO properties of a device profile, as `qwen3 device-config` builds them: "
        "{'properties': dict, 'findings': [dict], 'errors': int}");
  m.def("validate_device_config", &validate_device_config, py::arg("properties"),
        py::arg("device") = "NPU", py::arg("profile") = "balanced", py::arg("model") = py::none(),
        py::arg("model_preset") = py::none(), py::arg("threads") = 0,
        "The problems in a property map (a dict or a JSON file's path) for a device, as "
        "`qwen3 device-config --validate` finds them: a list of {'severity', 'key', "
        "'message', 'fix'}");

  py::class_<PyLLMPipeline, std::shared_ptr<PyLLMPipeline>>(m, "LLMPipeline")
      .def(py::init([](const std::string& path, const std::string& device, const py::kwargs& kw) {
             auto p = std::make_shared<PyLLMPipeline>(path, device, to_properties(kw));
             p->init_generation_config();
             return p;
           }),
           py::arg("models_path"), py::arg("device") = "CPU")
      .def("generate", &PyLLMPipeline::generate, py::arg("inputs"),
           py::arg("generation_config") = py::none(), py::arg("streamer") = py::none())
      .def("__call__", &PyLLMPipeline::generate, py::arg("inputs"),
           py::arg("generation_config") = py::none(), py::arg("streamer") = py::none())
      .def("start_chat", &PyLLMPipeline::start_chat, py::arg("system_message") = "")
      .def("finish_chat", &PyLLMPipeline::finish_chat)
      .def("get_generation_config", &PyLLMPipeline::get_generation_config)
      .def("set_generation_config", &PyLLMPipeline::set_generation_config, py::arg("config"))
      .def("get_tokenizer",
           [](const std::shared_ptr<PyLLMPipeline>& self) { return PyTokenizer{self}; })
      .def("get_info", [](const PyLLMPipeline& self) { return self.pipe().info(); });
}
