// Drives Atrium's OpenAI-compatible API (seed 001) with the official openai
// npm package and the Vercel AI SDK, the way seed 001's examples use them.
// The Go test (gateway/seed001_clients_test.go) passes {base_url, api_key}
// in ATRIUM_OPENAI_TEST and checks the JSON object this prints; a thrown
// error exits non-zero.
import OpenAI from "openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText, tool, jsonSchema } from "ai";

const cfg = JSON.parse(process.env.ATRIUM_OPENAI_TEST);
const out = {};

// The fake upstream's models (see seed001_helpers_test.go).
const TEXT = "fake-text";
const TOOLS = "fake-tools";
const CUT = "fake-cut";

const weatherSchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const calls = (list) => list.map((c) => `${c.name} ${c.args}`).join("; ");

async function officialClient() {
  const client = new OpenAI({ apiKey: cfg.api_key, baseURL: cfg.base_url, maxRetries: 0 });
  const hello = [{ role: "user", content: "Hello!" }];

  const response = await client.chat.completions.create({ model: TEXT, messages: hello });
  out.openai_text = response.choices[0].message.content;

  let text = "";
  let usage = null;
  const stream = await client.chat.completions.create({
    model: TEXT,
    messages: hello,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  out.openai_stream_text = text;
  out.openai_stream_usage = usage?.total_tokens;

  const tools = [
    { type: "function", function: { name: "get_weather", description: "Weather of a city", parameters: weatherSchema } },
    { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
  ];
  const ask = [{ role: "user", content: "Weather and time in Paris?" }];
  const withTools = await client.chat.completions.create({ model: TOOLS, messages: ask, tools });
  out.openai_tool_calls = calls(withTools.choices[0].message.tool_calls.map((c) => ({ name: c.function.name, args: c.function.arguments })));

  // The SDK's stream helper checks every delta (tool-call indexes
  // included) as it accumulates.
  const runner = client.chat.completions.stream({ model: TOOLS, messages: ask, tools });
  const final = await runner.finalChatCompletion();
  out.openai_stream_tools = calls(final.choices[0].message.tool_calls.map((c) => ({ name: c.function.name, args: c.function.arguments })));

  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  out.openai_models = ids.includes(TEXT);

  try {
    await client.chat.completions.create({ model: "gpt-17", messages: hello });
    out.openai_404 = "no error";
  } catch (err) {
    out.openai_404 = `${err.status} ${err.code}`;
  }

  try {
    const cut = await client.chat.completions.create({ model: CUT, messages: hello, stream: true });
    for await (const _ of cut) {
      // drain
    }
    out.openai_cut_failed = false;
  } catch {
    out.openai_cut_failed = true;
  }
}

async function vercelAISDK() {
  // As seed 001 shows it, with the chat-completions model (the SDK's
  // default model, ashna(modelId), speaks the Responses API).
  const ashna = createOpenAI({ baseURL: cfg.base_url, apiKey: cfg.api_key });
  const modelId = TEXT;

  const { text } = await generateText({ model: ashna.chat(modelId), prompt: "Hello!" });
  out.ai_generate_text = text;

  const result = streamText({ model: ashna.chat(modelId), messages: [{ role: "user", content: "Hello!" }] });
  let streamed = "";
  for await (const piece of result.textStream) streamed += piece;
  out.ai_stream_text = streamed;

  const tools = {
    get_weather: tool({ description: "Weather of a city", inputSchema: jsonSchema(weatherSchema) }),
    get_time: tool({ inputSchema: jsonSchema({ type: "object", properties: {} }) }),
  };
  const asked = await generateText({ model: ashna.chat(TOOLS), prompt: "Weather and time in Paris?", tools });
  out.ai_tool_calls = calls(asked.toolCalls.map((c) => ({ name: c.toolName, args: JSON.stringify(c.input) })));

  const streamedTools = streamText({ model: ashna.chat(TOOLS), prompt: "Weather and time in Paris?", tools });
  const toolCalls = await streamedTools.toolCalls;
  out.ai_stream_tools = calls(toolCalls.map((c) => ({ name: c.toolName, args: JSON.stringify(c.input) })));
}

await officialClient();
await vercelAISDK();
process.stdout.write(JSON.stringify(out));
