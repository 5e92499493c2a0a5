#include "transport/rest/query_string.hpp"

#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

using plume::transport::parse_query_string;
using plume::transport::QueryStringOptions;

std::string parsed(std::string_view raw, const QueryStringOptions& options = {}) {
  return boost::json::serialize(parse_query_string(raw, options));
}

struct Case {
  const char* raw;
  const char* expected;
};

void expect_cases(const std::vector<Case>& cases, const QueryStringOptions& options = {}) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.raw);
    EXPECT_EQ(parsed(c.raw, options), c.expected);
  }
}

// The request rest-client sends for {$limit: 2, $skip: 1, $sort: {n: -1}, $select: ['text', 'n'],
// $or: [{n: 1}, {text: 'x'}], text: {$in: ['a', 'b']}, nullish: null, flag: true}, as captured.
constexpr const char* kCapturedQuery =
    "%24limit=2&%24skip=1&%24sort%5Bn%5D=-1&%24select%5B0%5D=text&%24select%5B1%5D=n&%24or%5B0%5D%5Bn%5D=1&"
    "%24or%5B1%5D%5Btext%5D=x&text%5B%24in%5D%5B0%5D=a&text%5B%24in%5D%5B1%5D=b&nullish=&flag=true";

TEST(QueryString, CapturedRestClientUrlParsesToTheOriginalQueryAsStrings) {
  EXPECT_EQ(parsed(kCapturedQuery),
            R"({"$limit":"2","$skip":"1","$sort":{"n":"-1"},"$select":["text","n"],)"
            R"("$or":[{"n":"1"},{"text":"x"}],"text":{"$in":["a","b"]},"nullish":"","flag":"true"})");
}

TEST(QueryString, ReferenceExamples) {
  expect_cases({
      {"age[$gt]=10", R"({"age":{"$gt":"10"}})"},
      {"$sort[name]=1", R"({"$sort":{"name":"1"}})"},
      {"$select[]=a&$select[]=b", R"({"$select":["a","b"]})"},
      {"$select[0]=a&$select[1]=b", R"({"$select":["a","b"]})"},
      {"$or[0][x]=y&$or[1][z]=w", R"({"$or":[{"x":"y"},{"z":"w"}]})"},
      {"name[$in][]=a&name[$in][]=b", R"({"name":{"$in":["a","b"]}})"},
      {"id[$in]=1", R"({"id":{"$in":"1"}})"},
      {"a=x&a=y", R"({"a":["x","y"]})"},
      {"a[1]=b&a[3]=c", R"({"a":["b","c"]})"},
      {"a[1001]=x", R"({"a":{"1001":"x"}})"},
      {"a[0]=x&a[b]=y", R"({"a":{"0":"x","b":"y"}})"},
      {"a", R"({"a":""})"},
      {"a=", R"({"a":""})"},
      {"a=b+c&d+e=f", R"({"a":"b c","d e":"f"})"},
      {"a[b][c][d][e][f][g][h]=i", R"({"a":{"b":{"c":{"d":{"e":{"f":{"[g][h]":"i"}}}}}}})"},
      {"a.b=c", R"({"a.b":"c"})"},
  });
}

TEST(QueryString, KeysKeepTheirOrderWithIntegerKeysFirstAsInJavaScript) {
  expect_cases({
      {"$sort[b]=1&$sort[a]=-1&$sort[c]=1", R"({"$sort":{"b":"1","a":"-1","c":"1"}})"},
      {"z=1&y=2&x=3", R"({"z":"1","y":"2","x":"3"})"},
      {"b=1&2=x&1=y", R"({"1":"y","2":"x","b":"1"})"},
      {"a[b]=y&a[0]=x", R"({"a":{"0":"x","b":"y"}})"},
  });
}

TEST(QueryString, ArraysFollowQs) {
  expect_cases({
      {"a[1]=c&a[0]=b", R"({"a":["b","c"]})"},
      {"a[]=b&a=c", R"({"a":["b","c"]})"},
      {"a=b&a[]=c", R"({"a":["b","c"]})"},
      {"a[0]=b&a[]=c", R"({"a":["b","c"]})"},
      // qs 6.16: an index must be below arrayLimit (1000) to make an array.
      {"a[999]=x", R"({"a":["x"]})"},
      {"a[1000]=x", R"({"a":{"1000":"x"}})"},
      {"a[-1]=x&b[01]=y", R"({"a":{"-1":"x"},"b":{"01":"y"}})"},
      {"a[][b]=c", R"({"a":[{"b":"c"}]})"},
      {"a[0][b]=c&a[0][d]=e&a[1][b]=f", R"({"a":[{"b":"c","d":"e"},{"b":"f"}]})"},
      {"[]=x&a=b", R"({"0":"x","a":"b"})"},
  });
}

TEST(QueryString, MixedShapesMergeAsQsDoes) {
  expect_cases({
      // strictMerge: an object and a value meeting at one key become [object, value].
      {"a[b]=c&a=d", R"({"a":[{"b":"c"},"d"]})"},
      {"a=b&a[c]=d", R"({"a":["b",{"c":"d"}]})"},
      {"0[x]=1&0=y", R"({"0":["y",{"x":"1"}]})"},
      {"[foo]=bar", R"({"foo":"bar"})"},
  });
}

TEST(QueryString, KeysAreDecodedBeforeBracketsAreRead) {
  expect_cases({
      {"a%5Bb%5D=c", R"({"a":{"b":"c"}})"},
      {"a%5bb%5d=c", R"({"a":{"b":"c"}})"},
      {"a%255Bb%255D=c", R"({"a%5Bb%5D":"c"})"},
      {"%E4%BD%A0=%E5%A5%BD", R"({"你":"好"})"},
      {"a=%26%3D%2B", R"({"a":"&=+"})"},
      {"a[b=c]=d", R"({"a":{"b=c":"d"}})"},
      {"a=b=c", R"({"a":"b=c"})"},
  });
}

TEST(QueryString, MalformedPercentEncodingKeepsTheRawText) {
  expect_cases({
      {"a=%", R"({"a":"%"})"},
      {"a=%zz+b", R"({"a":"%zz b"})"},
      {"a=%E4%BD", R"({"a":"%E4%BD"})"},
      {"a=%C0%AF", R"({"a":"%C0%AF"})"},
      {"a=%ED%A0%80", R"({"a":"%ED%A0%80"})"},
      {"a=%FF", R"({"a":"%FF"})"},
      {"%zz=1", R"({"%zz":"1"})"},
  });
}

TEST(QueryString, EmptyKeysAndPartsAreSkipped) {
  expect_cases({
      {"", R"({})"},
      {"&&a=b&&", R"({"a":"b"})"},
      {"=x", R"({})"},
  });
}

TEST(QueryString, DepthKeepsTheRemainderAsOneKey) {
  expect_cases({{"a[b][c]=d", R"({"a":{"b":{"[c]":"d"}}})"}}, QueryStringOptions{.depth = 1});
  expect_cases({{"a[0]=b&a[1]=c", R"({"a[0]":"b","a[1]":"c"})"}}, QueryStringOptions{.depth = 0});
  expect_cases({
      {"a[b]x[c]=d", R"({"a":{"b":{"c":"d"}}})"},
      {"a[b[c]]=d", R"({"a":{"b[c]":"d"}})"},
      {"a[b[c]=d", R"({"a":{"[b[c]":"d"}})"},
      {"a[b][c][d][e][f][g]x=y", R"({"a":{"b":{"c":{"d":{"e":{"f":{"[g]x":"y"}}}}}}})"},
  });
}

TEST(QueryString, StrictDepthRejectsDeeperKeys) {
  const QueryStringOptions strict{.depth = 2, .strict_depth = true};
  EXPECT_EQ(parsed("a[b][c]=d", strict), R"({"a":{"b":{"c":"d"}}})");
  try {
    parse_query_string("a[b][c][d]=e", strict);
    ADD_FAILURE() << "expected an error";
  } catch (const plume::Error& error) {
    EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
    EXPECT_EQ(error.message(), "The input exceeded the depth");
  }
}

TEST(QueryString, ArrayLimitTurnsLargeIndicesIntoKeys) {
  expect_cases({{"a[0]=b", R"({"a":["b"]})"}, {"a[1]=b", R"({"a":{"1":"b"}})"}},
               QueryStringOptions{.array_limit = 1});
  expect_cases({{"a[0]=b", R"({"a":{"0":"b"}})"}}, QueryStringOptions{.array_limit = 0});
  // Repeated values past the limit: an object keyed by index.
  expect_cases({{"a=1&a=2&a=3", R"({"a":{"0":"1","1":"2","2":"3"}})"}}, QueryStringOptions{.array_limit = 2});
  expect_cases({
      {"a[999]=x&a[1001]=y", R"({"a":{"999":"x","1001":"y"}})"},
      {"a[1001]=x&a[]=y", R"({"a":{"0":"y","1001":"x"}})"},
  });
}

TEST(QueryString, PrototypeKeysCannotInjectAnything) {
  expect_cases({
      {"__proto__[x]=1&a=2", R"({"a":"2"})"},
      {"a[__proto__]=1", R"({"a":{}})"},
      {"constructor=1", R"({"constructor":"1"})"},
  });
}

TEST(QueryString, ParameterLimitIgnoresExtraPairs) {
  std::string raw;
  for (int i = 0; i < 5000; ++i) raw += "k" + std::to_string(i) + "=v&";
  const auto object = parse_query_string(raw);
  EXPECT_EQ(object.size(), 1000u);
  EXPECT_TRUE(object.contains("k999"));
  EXPECT_FALSE(object.contains("k1000"));
  EXPECT_EQ(parse_query_string("a=1&b=2&c=3", QueryStringOptions{.parameter_limit = 2}).size(), 2u);
}

TEST(QueryString, HostileKeysStayBounded) {
  // A megabyte of brackets: depth and the parameter limit bound the work and the nesting.
  std::string deep = "a" + std::string(100000, '[') + std::string(100000, ']') + "=1&";
  std::string segments = "b";
  for (int i = 0; i < 50000; ++i) segments += "[x]";
  std::string repeated;
  for (int i = 0; i < 3000; ++i) repeated += "c[]=1&";
  const auto object = parse_query_string(deep + segments + "=2&" + repeated);
  ASSERT_TRUE(object.contains("b"));
  const auto* level = &object.at("b");
  int depth = 0;
  while (level->is_object()) {
    level = &level->as_object().begin()->value();
    ++depth;
  }
  EXPECT_EQ(depth, 6);
  EXPECT_EQ(object.at("c").as_array().size(), 998u);
}

// Generated keys and values (brackets, indices around arrayLimit, prototype names, malformed and
// multi-byte escapes, '+', '=' and empty parts) with the results qs 6.16.2 gives for them under
// Express's options, recorded from node.
const Case kQsCorpus[] = {
    {R"(%+[a[b]]-1=]&10011%]999=&[x]y=[%E2%9C%93=&a=$in$orc=%20)",
     R"({"% ":{"a[b]":"]"},"10011%]999":"","x":"[✓=","a":"$in$orc= "})"},
    {R"([]%[a[b]]-1&%C0%AFaNaN=&%5D%260=%%20&$in=&[b]$inb=)",
     R"({"0":{"a[b]":""},"%C0%AFaNaN":"","]&0":"%%20","$in":"","b":""})"},
    {R"(%E4%BD%A0=11y&[a]=)", R"({"你":"11y","a":""})"},
    {R"(23__proto__1=&1001%26-1%&%5D%F0%9F%98%80=y11)", R"({"23__proto__1":"","1001%26-1%":"","]😀":"y11"})"},
    {R"(]b011001%5B&%F0%9F%98%80[[a]]1c999=[)", R"({"]b011001":{"[":""},"😀":{"[a]":"["}})"},
    {R"([a][[b]$in$in&%ED%A0%80__proto__a[x]y[1]&3[a[b]]%E4%BD%A0[[a]]=1)",
     R"({"3":{"a[b]":{"[a]":"1"}},"a":{"[[b]$in$in":""},"%ED%A0%80__proto__a":{"x":[""]}})"},
    {R"(x.ytoString__proto__=&-1[b]%E4%BD%A0[x]y0=xyy)",
     R"({"x.ytoString__proto__":"","-1":{"b":{"x":"xyy"}}})"},
    {R"(__proto__%5Bconstructor==[+)", R"({})"},
    {R"(3=[&toString$in0101=&%__proto__$orc&=[[a]]3=&[a]NaN=[a[b]]==)",
     R"({"3":"[","toString$in0101":"","%__proto__$orc":"","a":{"a[b]":"="}})"},
    {R"([0]]cb=)", R"({"0":""})"},
    {R"([]3$in&[1]c3[a][0]&$in%5Db%C0%AF&NaN[b][b][a[b]]a=)",
     R"({"0":"","1":{"a":[""]},"$in]b%C0%AF":"","NaN":{"b":{"b":{"a[b]":""}}}})"},
    {R"(constructor)", R"({"constructor":""})"},
    {R"([a[b]]%zz%%zz=&b][x]y0%E4%BD%A0=&%C0%AF=+x%&-1=1000[a]NaN=[%20%)",
     R"({"a[b]":"","b]":{"x":""},"%C0%AF":" x%","-1":"1000[a]NaN=[%20%"})"},
    {R"(c[[a]][0]]=)", R"({"c":{"[a]":[""]}})"},
    {R"(&=&%=&$in-1-1=+x&c1001x.y[0]=1&0%5D=[[)", R"({"%":"","$in-1-1":" x","c1001x.y":["1"],"0]":"[["})"},
    {R"([b]=[%&1%F0%9F%98%80=)", R"({"b":"[%","1😀":""})"},
    {R"(0]%3D[]=x%&%=]1)", R"({"0]=":["x%"],"%":"]1"})"},
    {R"(01=&1001=%E2%9C%93&=%%C0%AF[a[b]]0=[)", R"({"1001":"✓","01":""})"},
    {R"([a]%5b0%5D=]%y&bconstructor3bc=)", R"({"a":["]%y"],"bconstructor3bc":""})"},
    {R"([][0]__proto__&%C0%AF=)", R"({"0":"","%C0%AF":""})"},
    {R"(=%5b0%5D=&=toString1000%3D=%E2%9C%93&=01=%20&1001[][x]y=%20%20&13=)",
     R"({"13":"","1001":[{"x":"  "}],"=":[""]})"},
    {R"($in1[]%5B=1]%&[1]a%ED%A0%80c-1=1)", R"({"1":"1","$in1":[{"[":"1]%"}]})"},
    {R"(%5B-1[x]y=y&[]=&[[a]][x]y-1+=++&%5B3=]%)", R"({"0":"","[-1[x]y":"y","[a]":{"x":"  "},"[3":"]%"})"},
    {R"(%3DtoString[x]y$or=[1+&][1]=[%E4%BD%A0=]+&ba__proto__=&[b]$or[]%5B=)",
     R"({"=toString":{"x":"[1 "},"]":["[你=] "],"ba__proto__":"","b":[{"[":""}]})"},
    {R"(&toString[0]toString=%E2%9C%93&-1__proto__=%E2%9C%93&a)",
     R"({"toString":["✓"],"-1__proto__":"✓","a":""})"},
    {R"(toString=&&0=])", R"({"0":"]","toString":""})"},
    {R"(%E4%BD%A0%E4%BD%A0[0]=%&$in2==%20[)", R"({"你你":["%"],"$in2":"= ["})"},
    {R"(toString=&a[b]0=]%E2%9C%93x&2=1%20&1000[]01[b]=]++)",
     R"({"2":"1 ","1000":[{"b":"]  "}],"toString":"","a":{"b":"]✓x"}})"},
    {R"(]=)", R"({"]":""})"},
    {R"([a[b]]=x%y)", R"({"a[b]":"x%y"})"},
    {R"([a[b]]__proto__==]%20&%5B1001]=+[1)", R"({"1001":" [1","a[b]":"=] "})"},
    {R"(%E4%BD%A0=1&[b]=&$orNaN__proto__=)", R"({"你":"1","b":"","$orNaN__proto__":""})"},
    {R"(__proto__%5D[x]y1000=%&3%ED%A0%80toString==&a01=&toString=1)",
     R"({"__proto__]":{"x":"%"},"3%ED%A0%80toString":"=","a01":"","toString":"1"})"},
    {R"([a[b]]=x%20&%=x&%C0%AF1000][]]=y]+&[1]=)", R"({"1":"","a[b]":"x ","%":"x","%C0%AF1000]":["y] "]})"},
    {R"(%ED%A0%801001=%20&[a[b]]01x.y=)", R"({"%ED%A0%801001":" ","a[b]":""})"},
    {R"(%5D$in[a]%5b0%5D=%E2%9C%93&[b]%E4%BD%A0=1=)", R"({"]$in":{"a":["✓"]},"b":"1="})"},
    {R"([]__proto__NaN[x]y==)", R"({"0":{"x":"="}})"},
    {R"(]%F0%9F%98%80%=&+[a]=y=&%3D]%26=%)", R"({"]%F0%9F%98%80%":""," ":{"a":"y="},"=]&":"%"})"},
    {R"([[a]]-1==&03=[&[a]0[1]=[y&__proto__[[a]]=&1000[a][x]y=y)",
     R"({"1000":{"a":{"x":"y"}},"[a]":"=","03":"[","a":["[y"]})"},
    {R"(__proto__[[a]][1]=)", R"({})"},
    {R"(%zz=&]NaN===%E2%9C%93&1000=1&=[b]=&[a]==+)",
     R"({"1000":"1","%zz":"","]NaN":"==✓","=":{"b":""},"a":"= "})"},
    {R"($or%F0%9F%98%80c=1&1%E4%BD%A0[0]%5DtoString=+[[)", R"({"$or😀c":"1","1你":[" [["]})"},
    {R"(a[__proto__]=&%=]1&x.yc]b%zz=+%&01-1[$or=%&%E4%BD%A0b1001=])",
     R"({"a":{},"%":"]1","x.yc]b%zz":" %","01-1":{"[$or":"%"},"你b1001":"]"})"},
    {R"(%F0%9F%98%80=&%5D3=[1&]2&1001=]&[1]NaN==&]1001=+)",
     R"({"1":"=","1001":"]","😀":"","]3":"[1","]2":"","]1001":" "})"},
    {R"(%zz=&$in=ca[x]y=]+)", R"({"%zz":"","$in":"ca[x]y=] "})"},
    {R"(a[01][c][999][1000][][1001][-1]=v&a=&a[2][01][a][b]=v&a[1001][2][1000][a][b][a][b])",
     R"({"a":{"2":{"01":{"a":{"b":"v"}}},"1001":[{"1000":{"a":{"b":{"[a][b]":""}}}}],"01":{"c":[{"1000":[{"[1001][-1]":"v"}]}]}}})"},
    {R"(1=)", R"({"1":""})"},
    {R"(0[x[1000][-1][2][1000]=)", R"({"0":{"[x[1000][-1][2][1000]":""}})"},
    {R"(a=v&a[0]=v&a[1][01][999][c][[x]]=)", R"({"a":["v","v",{"01":[{"c":{"[x]":""}}]}]})"},
    {R"(a[01]&a[c]x]=w)", R"({"a":{"01":"","c":"w"}})"},
    {R"(b[x[][x[__proto__][0][c]=w&a[__proto__][2][1001]=)",
     R"({"b":{"[x[][x[__proto__][0][c]":"w"},"a":{}})"},
    {R"([a][b][2][0]&1[1001][][1001]=&1[01][999][a][b][][-1][a][b]=w)",
     R"({"1":{"1001":{"1001":""},"01":[{"a":{"b":[{"[-1][a][b]":"w"}]}}]},"a":{"b":[[""]]}})"},
    {R"(0=w)", R"({"0":"w"})"},
    {R"(bx][__proto__][-1][c][[x]]=&[2][1000]=&a[0][1][5000][x[x[1000]=)",
     R"({"2":{"1000":""},"bx]":{},"a":[[{"5000":{"[x[x[1000]":""}}]]})"},
    {R"(1[0]=&1[1000]x]=v&0=)", R"({"0":"","1":{"0":"","1000":"v"}})"},
    {R"(a[b][999][__proto__]=&[c][01]=&0[2][b]x]=w)", R"({"0":[{"b":"w"}],"a":{"b":[{}]},"c":{"01":""}})"},
    {R"(a[-1][1][5000]=w&b[2])", R"({"a":{"-1":[{"5000":"w"}]},"b":[""]})"},
    {R"(=&a[a][b][c]&1[a][b][5000][a][b]x][-1]=&0[5000]=w&1=w)",
     R"({"0":{"5000":"w"},"1":["w",{"a":{"b":{"5000":{"a":{"b":{"[-1]":""}}}}}}],"a":{"a":{"b":{"c":""}}}})"},
    {R"(0&a[[x]][[x]][01][]=&0=&=v&0=w&[__proto__][1000]=&a&b[2]x][2][2]=v)",
     R"({"0":["","","w"],"a":{"[x]":{"[x]":{"01":[""]}}},"b":[[["v"]]]})"},
    {R"(b[a][b][01][01][__proto__]=w&ax][b][[x]][1001][b][__proto__][1001]=&a=&a)",
     R"({"b":{"a":{"b":{"01":{"01":{}}}}},"ax]":{"b":{"[x]":{"1001":{"b":{}}}}},"a":["",""]})"},
    {R"(0=&1[-1][b][][-1][][999]=&b[2][c][b][999][999]=v)",
     R"({"0":"","1":{"-1":{"b":[{"-1":[{"[999]":""}]}]}},"b":[{"c":{"b":[["v"]]}}]})"},
    {R"(1=v&1[c]=&b[2][999][__proto__][2][2][1000]=)", R"({"1":["v",{"c":""}],"b":[[{}]]})"},
    {R"(a[a][b][0][][-1][c]x]=v&b=w&b[c][2][b][2]=w&b[c]x][a][b]=v)",
     R"({"a":{"a":{"b":[[{"-1":{"[c]x]":"v"}}]]}},"b":{"0":"w","1":{"c":[{"b":["w"]}]},"c":{"a":{"b":"v"}}}})"},
    {R"([-1][1001]&a=)", R"({"-1":{"1001":""},"a":""})"},
    {R"(0[[x]][][1][0][][1][1]=w&&1[[x]][2][5000]=&a=v&a[])",
     R"({"0":{"[x]":[[[{"[1][1]":"w"}]]]},"1":{"[x]":[{"5000":""}]},"a":["v",""]})"},
    {R"(1[[x]]x][1000][c][]=v&0=w&[2][2][][a][b]&1[5000][01][01][0]=w&=w)",
     R"({"0":"w","1":{"5000":{"01":{"01":["w"]}},"[x]":{"1000":{"c":["v"]}}},"2":[[{"a":{"b":""}}]]})"},
    {R"(0[1001][1][x&0=&a[c][1001][[x]]=w&a[a][b][1001][2][-1][]=)",
     R"({"0":{"0":"","1002":[{"[x":""}]},"a":{"c":{"1001":{"[x]":"w"}},"a":{"b":{"1001":[{"-1":{"[]":""}}]}}}})"},
    {R"([][5000][__proto__][x=w&[0][2][c][c][][-1]=w&a=&0[01][01][0]x][x[__proto__]=w)",
     R"({"0":{"2":{"c":{"c":[{"[-1]":"w"}]}},"01":{"01":[{"[x[__proto__]":"w"}]}},"5000":{},"a":""})"},
    {R"(0=w&a[01][b][-1]=&1=w&a[__proto__]=v&ax]=w&[2][2][1]=&a[0][a][b][a][b]=)",
     R"({"0":"w","1":"w","2":[[""]],"a":{"0":{"a":{"b":{"a":{"b":""}}}},"01":{"b":{"-1":""}}},"ax]":"w"})"},
    {R"(0[1001]=&1[5000][c][__proto__][2][1000][1000]&a[1000]x][1001][2][1000][-1][c]=v&a[5000]=v)",
     R"({"0":{"1001":""},"1":{"5000":{"c":{}}},"a":{"1000":{"1001":[{"1000":{"-1":{"[c]":"v"}}}]},"5000":"v"}})"},
    {R"([1001][a][b][5000][c][0]=w&0[c][1000][0]=&[][999][01][01][[x]][2][b]=v)",
     R"({"0":{"c":{"1000":[""]}},"999":{"01":{"01":{"[x]":{"[2][b]":"v"}}}},"1001":{"a":{"b":{"5000":{"c":{"[0]":"w"}}}}}})"},
    {R"(ax][__proto__][5000]=&a[5000]&b[0][0][-1][1001][__proto__]&[01][-1][1][0]=w)",
     R"({"ax]":{},"a":{"5000":""},"b":[[{"-1":{"1001":{}}}]],"01":{"-1":[["w"]]}})"},
    {R"(a[][1][999]&0[a][b][[x]][__proto__])", R"({"0":{"a":{"b":{"[x]":{}}}},"a":[[""]]})"},
    {R"([5000][999][[x]]x][a][b]=&[1][1001][[x]][][1][0][a][b]=w)",
     R"({"1":{"1001":{"[x]":[{"[0][a][b]":"w"}]}},"5000":[{"[x]":{"a":{"b":""}}}]})"},
    {R"(b[1000]x][1000][x[1001][-1]=&a&a[-1][x&b=)",
     R"({"b":{"1000":{"1000":{"[x[1001][-1]":""}}},"a":["",{"-1":{"[x":""}}]})"},
    {R"([1][01]=&1[999][1][0]=v&a[1001][-1][0][__proto__]=w)",
     R"({"1":{"999":[["v"]],"01":""},"a":{"1001":{"-1":[{}]}}})"},
    {R"(a[x[x[x[0]=)", R"({"a":{"[x[x[x[0]":""}})"},
    {R"(a=v)", R"({"a":"v"})"},
    {R"(1=&a[x[[x]][1][x[[x]][][a][b])", R"({"1":"","a":{"[x[[x]][1][x[[x]][][a][b]":""}})"},
    {R"([1000][1001][][0]=w&[0][[x]][-1][1001]=v&1[x[-1][2][2][999][01]=&a[999][[x]][][]x][2])",
     R"({"0":{"[x]":{"-1":{"1001":"v"}}},"1":{"[x[-1][2][2][999][01]":""},"1000":{"1001":["w"]},"a":[{"[x]":[""]}]})"},
    {R"(a[b][999][x[x[-1]=v&b&b[5000][1][[x]][-1]=&b[][1000]x][][a][b][0]=w)",
     R"({"a":{"b":[{"[x[x[-1]":"v"}]},"b":{"0":"","1000":[{"a":{"b":{"[0]":"w"}}}],"5001":[{"[x]":{"-1":""}}]}})"},
    {R"(b[a][b][b][b]x]=&a[0]x][][999][2]=v&a[1000]x][[x]][1]=v)",
     R"({"b":{"a":{"b":{"b":{"b":""}}}},"a":{"0":[["v"]],"1000":{"[x]":["v"]}}})"},
    {R"(a[999]=v&a[01][1][__proto__][2][-1])", R"({"a":{"999":"v","01":[{}]}})"},
    {R"(a[5000][1000]=v&a[1][1000]=w&[1001][x[]=&a[c][c][c][01][[x]]=&[a][b]=v&0=)",
     R"({"0":"","1001":{"[x[]":""},"a":{"1":{"1000":"w"},"5000":{"1000":"v"},"c":{"c":{"c":{"01":{"[x]":""}}}},"b":"v"}})"},
    {R"(1[1001][5000][2]x][0][1001]=&b[0][01][__proto__][b][__proto__]=)",
     R"({"1":{"1001":{"5000":[[{"1001":""}]]}},"b":[{"01":{}}]})"},
    {R"(0[c][b][2][1000][-1][2]=&b[1001]x]x]x]=v&b[[x]][01][x=w)",
     R"({"0":{"c":{"b":[{"1000":{"-1":{"[2]":""}}}]}},"b":{"1001":"v","[x]":{"01":{"[x":"w"}}}})"},
    {R"([c][2][0][1001][1]=v&a[b][1001]=v&a[01][2]&ax][1][x[2][x=)",
     R"({"c":[[{"1001":["v"]}]],"a":{"b":{"1001":"v"},"01":[""]},"ax]":[{"[x[2][x":""}]})"},
    {R"(0[b]=&[][x[2][b][1000][0][1001]=)", R"({"0":{"b":"","[x[2][b][1000][0][1001]":""}})"},
    {R"(b=&a[1][1000][2]=&1[999][5000]=&0[][[x]]=&bx][[x]][01])",
     R"({"0":[{"[x]":""}],"1":[{"5000":""}],"b":"","a":[{"1000":[""]}],"bx]":{"[x]":{"01":""}}})"},
    {R"(b[x[x[5000][1000][1][[x]][]=)", R"({"b":{"[x[x[5000][1000][1][[x]][]":""}})"},
};

TEST(QueryString, MatchesQsOnARecordedCorpus) {
  for (const auto& c : kQsCorpus) {
    SCOPED_TRACE(c.raw);
    EXPECT_EQ(boost::json::parse(parsed(c.raw)), boost::json::parse(c.expected));
    EXPECT_EQ(parsed(c.raw), boost::json::serialize(boost::json::parse(c.expected)));
  }
}

TEST(QueryString, CapturedQueryCoercedByTheSchemaIsTheOriginalQuery) {
  auto query = boost::json::value(parse_query_string(kCapturedQuery));
  const auto schema = plume::Schema::from_json(plume::parse_json(
      R"({"n": {"type": "integer"}, "text": {"type": "string"}, "nullish": {"type": "integer"}, "flag": {"type": "boolean"}})"));
  schema.coerce_query(query);
  EXPECT_EQ(plume::to_json_text(query),
            R"({"$limit":"2","$skip":"1","$sort":{"n":"-1"},"$select":["text","n"],)"
            R"("$or":[{"n":1},{"text":"x"}],"text":{"$in":["a","b"]},"nullish":null,"flag":true})");
  plume::QueryOptions options;
  options.schema = &schema;
  const auto parsed_query = plume::parse_query(query, options);
  EXPECT_EQ(parsed_query.limit, 2);
  EXPECT_EQ(parsed_query.skip, 1);
  ASSERT_EQ(parsed_query.sort.size(), 1u);
  EXPECT_EQ(parsed_query.sort[0].direction, -1);
  EXPECT_TRUE(parsed_query.matches(R"({"id": 1, "n": 1, "text": "a", "flag": true})"));
  EXPECT_FALSE(parsed_query.matches(R"({"id": 2, "n": 2, "text": "a", "flag": true})"));
  EXPECT_FALSE(parsed_query.matches(R"({"id": 3, "n": 1, "text": "a", "nullish": 4, "flag": true})"));
}

}  // namespace
