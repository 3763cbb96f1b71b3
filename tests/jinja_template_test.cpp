// The Jinja renderer against @huggingface/jinja (tools/render_jinja.mjs): a corpus of
// small templates, one per construct the Qwen family's templates use, plus error cases
// (both sides must fail), rendered by both in one node process; and the data marking
// (which output bytes came from the context), limits and error positions.
#include <gtest/gtest.h>

#include "template_diff_driver.h"
#include "text/jinja_template.h"

namespace qwen3::text::jinja {
namespace {

using ojson = nlohmann::ordered_json;

using qwen3::testing::have_node;

// {template, context} cases rendered by the reference.
ojson reference_inline(const ojson& cases, const std::string& name) {
  return qwen3::testing::render_reference("render_jinja.mjs", "--inline", cases, name);
}

const ojson kCtx = {
    {"s", "Hello World"},
    {"e", ""},
    {"ws", "  \n padded\t\n "},
    {"n", 42},
    {"f", 2.5},
    {"fi", 3.0},
    {"neg", -7},
    {"b", true},
    {"nul", nullptr},
    {"arr", {1, 2, 3}},
    {"sarr", {"b", "a", "c"}},
    {"objs",
     {{{"name", "x"}, {"v", 1}, {"on", true}},
      {{"name", "y"}, {"v", 2}, {"on", false}},
      {{"name", "z"}, {"on", nullptr}}}},
    {"obj",
     {{"b", 1}, {"a", {1, "two", nullptr}}, {"10", "ten"}, {"2", "two"}, {"é", "ü \"q\" \n"}}},
    {"messages",
     {{{"role", "system"}, {"content", "sys"}},
      {{"role", "user"}, {"content", "<tool_response>r</tool_response>"}},
      {{"role", "assistant"}, {"content", "<think>\nr\n</think>\n\nans"}}}},
};

const char* kTemplates[] = {
    // output, literals, whitespace control, comments
    "a {{ s }} b",
    "{{ 'x' }}  \n  {{- 'y' -}}  \n {{ 'z' }}",
    "{# c #}a{#- c -#}  b {#- x #}",
    "  {% if true %}\n  yes\n  {% endif %}\n",
    "{%- if b -%}  T  {%- else -%} F {%- endif -%}\n",
    "{{ \"esc \\n \\t \\\\ \\' \\\" \\x41 \\u00e9 \\ud83d\\ude00\" }}",
    "{{ 'a' 'b' \"c\" }}",
    // numbers and printing
    "{{ n }} {{ f }} {{ fi }} {{ neg }} {{ 1.0 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 "
    "}} {{ -3 }} {{ 1e3 if false else 5 }}",
    "{{ n + f }} {{ n * 2 }} {{ n - 50 }} {{ 10 / 4 }} {{ 4 / 2 }} {{ -n }} {{ +f }}",
    "{{ b }} {{ nul }} {{ undefined_var }} {{ arr }} {{ obj }} {{ objs[0] }}",
    // strings and operators
    "{{ s + '!' }} {{ s ~ n ~ b }} {{ 'a' + 1 }} {{ 'World' in s }} {{ 'q' not in s }} {{ 'b' in "
    "obj }}",
    "{{ s[0] }} {{ s[-1] }} {{ s[1:4] }} {{ s[::-1] }} {{ s[::2] }} {{ s[-3:] }} {{ arr[::-1] }} "
    "{{ arr[1:] }} {{ arr[-1] }} {{ arr[9] }}",
    "{{ s.upper() }} {{ s.lower() }} {{ ws.strip() }}|{{ ws.lstrip() }}|{{ ws.rstrip() }}|{{ "
    "ws.strip('\\n') }}|",
    "{{ s.startswith('Hell') }} {{ s.endswith('x') }} {{ s.startswith(('x', 'He')) }} {{ s.split(' "
    "') }} {{ s.split('o') }} {{ ws.split() }} {{ s.split('l', 1) }}",
    "{{ s.replace('l', 'L') }} {{ s.replace('l', 'L', 1) }} {{ s.title() }} {{ 'ab "
    "cd'.capitalize() }} {{ s.length }} {{ 'é🎉'.length }}",
    "{{ messages[2].content.split('</think>')[-1].lstrip('\\n') }}|{{ "
    "messages[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
    // comparisons and logic
    "{{ 1 == 1.0 }} {{ 'a' == 'a' }} {{ 1 != 2 }} {{ 1 < 2 }} {{ 2 >= 2 }} {{ nul == none }} {{ "
    "undefined_var == none }} {{ '1' == 1 }} {{ true == 1 }}",
    "{{ b and n }} {{ e or 'dflt' }} {{ not e }} {{ not not s }} {{ arr and 'y' }} {{ [] or "
    "'empty' }} {{ {} or 'eo' }}",
    "{{ 'y' if b else 'n' }} {{ 'y' if e }}|{{ 'x' if nul is none else 'z' }}",
    // tests
    "{{ s is string }} {{ n is number }} {{ n is integer }} {{ f is integer }} {{ obj is mapping "
    "}} {{ arr is mapping }} {{ arr is iterable }} {{ s is iterable }} {{ obj is iterable }} {{ "
    "obj is sequence }}",
    "{{ nul is none }} {{ undefined_var is defined }} {{ s is defined }} {{ undefined_var is "
    "undefined }} {{ b is true }} {{ b is false }} {{ b is boolean }} {{ n is odd }} {{ n is even "
    "}} {{ s is lower }} {{ 'ab' is lower }} {{ s is not string }}",
    // filters
    "{{ arr | length }} {{ s | length }} {{ obj | length }} {{ arr | first }} {{ arr | last }} {{ "
    "sarr | join }} {{ sarr | join(', ') }} {{ arr | join('-') }} {{ s | join('.') }}",
    "{{ ws | trim }}|{{ s | upper }} {{ s | lower }} {{ n | string }} {{ f | string }} {{ b | "
    "string }} {{ arr | string }} {{ '12abc' | int }} {{ 'x' | int }} {{ f | int }} {{ '3.5e1x' | "
    "float }} {{ b | int }}",
    "{{ undefined_var | default('d') }} {{ e | default('d') }} {{ e | default('d', true) }} {{ nul "
    "| default('d') }} {{ s | safe }} {{ sarr | list }} {{ sarr | reverse }} {{ sarr | sort }} {{ "
    "arr | unique }}",
    "{{ obj | tojson }} {{ obj | tojson(indent=2) }} {{ s | tojson }} {{ 'é\\u2028' | "
    "tojson(ensure_ascii=true) }} {{ obj | tojson(sort_keys=true) }} {{ arr | "
    "tojson(separators=(',', ':')) }} {{ undefined_var | tojson }} {{ f | tojson }} {{ fi | tojson "
    "}}",
    "{{ obj | items }} {{ obj.items() }} {{ obj.keys() }} {{ obj.values() }} {{ obj.get('b') }} {{ "
    "obj.get('zz', 'no') }} {{ obj.get('zz') }} {{ obj | dictsort }}",
    "{{ objs | selectattr('on') | list }} {{ objs | rejectattr('on') | list }} {{ objs | "
    "selectattr('name', 'equalto', 'y') | list }} {{ objs | map(attribute='name') | list }} {{ "
    "objs | map(attribute='v', default=0) | join(',') }}",
    "{{ s | replace('o', '0') }} {{ 'a\\nb\\n\\nc' | indent }} {{ 'a\\nb' | indent(2, true) }} {{ "
    "'ab' | title }} {{ objs | sort(attribute='name', reverse=true) | map(attribute='name') | join "
    "}}",
    "{% filter upper %}abc {{ s }}{% endfilter %}",
    // set, namespace, scoping
    "{% set x = 1 %}{% set y, z = [2, 3] %}{{ x }}{{ y }}{{ z }}{% set blk %}in {{ s }}{% endset "
    "%}[{{ blk }}]",
    "{% set ns = namespace(count=0, last='') %}{% for i in arr %}{% set ns.count = ns.count + i "
    "%}{% set ns.last = i %}{% endfor %}{{ ns.count }} {{ ns.last }} {{ ns }}",
    "{% set x = 'outer' %}{% for i in arr %}{% set x = i %}{% endfor %}{{ x }}{% if true %}{% set "
    "x = 'if' %}{% endif %}{{ x }}",
    "{% set ns = namespace(obj) %}{{ ns.b }}{% set ns2 = namespace([['k', 'v']]) %}{{ ns2.k }}",
    // loops
    "{% for i in arr %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ "
    "loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}[{{ loop.previtem }}|{{ loop.nextitem "
    "}}] {% endfor %}",
    "{% for i in [] %}x{% else %}empty{% endfor %}{% for k in obj %}{{ k }},{% endfor %}{% for k, "
    "v in obj | items %}{{ k }}={{ v }};{% endfor %}",
    "{% for i in arr if i > 1 %}{{ i }}{{ loop.index }}{% endfor %}|{% for i in range(5) %}{% if i "
    "== 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for m in messages[::-1] %}{{ m.role }}{% endfor %}{% for i in range(1, 7, 2) %}{{ i }}{% "
    "endfor %}{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}",
    "{% for a in [[1, 2], [3, 4]] %}{% for b in a %}{{ loop.index }}{{ b }}{% endfor %}{{ "
    "loop.index }}{% endfor %}",
    // macros and call blocks
    "{% macro m(a, b='B', c=none) %}<{{ a }}|{{ b }}|{{ c }}>{% endmacro %}{{ m(1) }}{{ m(1, 2) "
    "}}{{ m(1, c=3) }}{{ m('x', b=s) }}",
    "{% macro m(a) %}{{ a }}{{ kwargs }}{{ varargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}",
    "{% macro outer(x) %}[{{ caller(x) }}]{% endmacro %}{% call(v) outer(5) %}got {{ v }}{% "
    "endcall %}",
    "{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(4) }}",
    "{% set v = 'caller-scope' %}{% macro show() %}{{ v }}{% endmacro %}{{ show() }}",
    // object and array literals, misc
    "{{ {'a': 1, 'b': [1, 2]} }} {{ [1, 'x', none, true] }} {{ (1, 2) }} {{ [1] + [2] }} {{ {'k': "
    "s}['k'] }} {{ obj['é'] }} {{ obj.a[1] }} {{ obj.a.1 }}",
    "{{ messages | length - 1 }} {{ (messages | length - 1) - 1 }} {{ messages[0]['role'] }} {{ "
    "messages[0].role == 'system' }}",
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}{{- "
    "'end' }}",
    "{% generation %}gen{% endgeneration %} {%- generation -%} x {% endgeneration %}",
    "{{ raise_exception('bad ' ~ n) if n > 100 else 'ok' }}",
    // errors: both must fail
    "{{ raise_exception('nope') }}",
    "{{ nul + 'x' }}",
    "{{ undefined_var + 'x' }}",
    "{{ undefined_var.foo.bar }}{{ undefined_var.foo() }}",
    "{{ s.nonexistent() }}",
    "{% for x in s %}{{ x }}{% endfor %}",
    "{% if true %}unclosed",
    "{{ 1 + }}",
    "{% unknowntag %}",
    "{{ s | nosuchfilter }}",
    "{{ s is nosuchtest }}",
    "{{ 'a' < 'b' }}",
    "{{ s | first }}",
    "{% set ns = namespace(a=1) %}{% set s.x = 1 %}",
    "{{ 'unterminated }}",
    "{{ arr | map('upper') }}",
    "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
    "{{ 'x' | items }}",
};

TEST(JinjaTemplate, ConstructsMatchReference) {
  if (!have_node()) GTEST_SKIP() << "node not found";
  ojson cases = ojson::array();
  for (const char* t : kTemplates) cases.push_back({{"template", t}, {"context", kCtx}});
  ojson expected = reference_inline(cases, "jinja_constructs");
  ASSERT_EQ(expected.size(), cases.size());
  int ok = 0, failing = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(std::string("template: ") + kTemplates[i]);
    std::string got;
    std::string error;
    try {
      got = Template(kTemplates[i]).render(kCtx).s;
    } catch (const TemplateError& e) {
      error = e.what();
    }
    if (expected[i].is_string()) {
      EXPECT_EQ(error, "");
      EXPECT_EQ(got, expected[i].get<std::string>());
      ++ok;
    } else {
      EXPECT_NE(error, "") << "reference failed with " << expected[i].dump()
                           << ", we rendered: " << got;
      ++failing;
    }
  }
  std::printf("%d constructs rendered equal, %d failing in both\n", ok, failing);
}

TEST(JinjaTemplate, MarksContextBytesAsData) {
  Template t(
      "<|im_start|>{{ role }}\n{{ content | trim }}{{ '<|im_end|>' }}{{ content.split('>|')[1] }}");
  ojson ctx = {{"role", "user"}, {"content", "  a<|im_end|>|b  "}};
  Str out = t.render(ctx);
  EXPECT_EQ(out.s, "<|im_start|>user\na<|im_end|>|b<|im_end|>b  ");
  // "user", "a<|im_end|>|b" and "b  " are data; the template's own tokens are not.
  ASSERT_EQ(out.data.size(), 3u);
  EXPECT_EQ(out.s.substr(out.data[0].begin, out.data[0].end - out.data[0].begin), "user");
  EXPECT_EQ(out.s.substr(out.data[1].begin, out.data[1].end - out.data[1].begin), "a<|im_end|>|b");
  EXPECT_EQ(out.s.substr(out.data[2].begin, out.data[2].end - out.data[2].begin), "b  ");
  // Keys of context objects and JSON of context values are data too.
  Template k("{% for key, v in o | items %}<{{ key }}>{{ v | tojson }}{% endfor %}");
  Str ko = k.render(ojson{{"o", {{"<|im_end|>", 1}}}});
  EXPECT_EQ(ko.s, "<<|im_end|>>1");
  ASSERT_EQ(ko.data.size(), 1u);
  EXPECT_EQ(ko.data[0].begin, 1u);
  EXPECT_EQ(ko.data[0].end, 1u + std::string("<|im_end|>").size());
}

TEST(JinjaTemplate, ErrorsNameThePosition) {
  try {
    Template("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  try {
    Template("{% while true %}{% endwhile %}");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown statement {% while %}"), std::string::npos)
        << e.what();
  }
  try {
    Template("\n\n  {{ raise_exception('stop here') }}").render(ojson::object());
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("stop here"), std::string::npos) << e.what();
  }
}

TEST(JinjaTemplate, LimitsStopRunawayTemplates) {
  ParseLimits pl;
  pl.max_template_bytes = 100;
  EXPECT_THROW(Template(std::string(200, 'x'), pl), TemplateError);
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "(";
  EXPECT_THROW(Template("{{ " + deep + "1" + std::string(1000, ')') + " }}"), TemplateError);
  std::string nested;
  for (int i = 0; i < 500; ++i) nested += "{% if true %}";
  for (int i = 0; i < 500; ++i) nested += "{% endif %}";
  EXPECT_THROW(Template{nested}, TemplateError);
  RenderLimits rl;
  rl.max_output_bytes = 1000;
  rl.max_loop_iterations = 10000;
  EXPECT_THROW(Template("{% for i in range(100000) %}x{% endfor %}").render(ojson::object(), rl),
               TemplateError);
  EXPECT_THROW(
      Template("{% for i in range(500) %}{% for j in range(500) %}{% endfor %}{% endfor %}")
          .render(ojson::object(), rl),
      TemplateError);
  EXPECT_THROW(
      Template(
          "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
          "{% endfor %}")
          .render(ojson::object(), rl),
      TemplateError);
  EXPECT_THROW(
      Template("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}").render(ojson::object(), rl),
      TemplateError);
}

}  // namespace
}  // namespace qwen3::text::jinja
