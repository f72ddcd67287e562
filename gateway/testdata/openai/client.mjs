// Drives Atrium's OpenAI-compatible API (seed 001) with the official openai
// npm package and the Vercel AI SDK, the way seed 001's examples use them.
// The Go test (gateway/seed001_clients_test.go) passes {base_url, api_key}
// (and agent, to drive only an agent as the model) in ATRIUM_OPENAI_TEST and checks the JSON object this prints; a thrown
// error exits non-zero.
import OpenAI from "openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText, tool, jsonSchema, stepCountIs } from "ai";

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

// The official client on the Responses API (POST /responses).
async function officialResponses() {
  const client = new OpenAI({ apiKey: cfg.api_key, baseURL: cfg.base_url, maxRetries: 0 });

  const response = await client.responses.create({ model: TEXT, input: "Hello!" });
  out.openai_responses_text = response.output_text;

  // Continued by id: the gateway keeps the conversation.
  const next = await client.responses.create({ model: TEXT, input: "Again", previous_response_id: response.id });
  out.openai_responses_previous = next.previous_response_id === response.id ? next.output_text : "wrong previous_response_id";

  let text = "";
  let usage = null;
  const stream = await client.responses.create({ model: TEXT, input: [{ role: "user", content: "Hello!" }], stream: true });
  for await (const event of stream) {
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") usage = event.response.usage;
  }
  out.openai_responses_stream_text = text;
  out.openai_responses_stream_usage = usage?.total_tokens;

  // The stream helper accumulates (and checks) every event.
  const helped = await client.responses.stream({ model: TEXT, input: "Hello!" }).finalResponse();
  out.openai_responses_helper_text = helped.output_text;

  const tools = [
    { type: "function", name: "get_weather", description: "Weather of a city", parameters: weatherSchema, strict: false },
    { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false },
  ];
  const ask = [{ role: "user", content: "Weather and time in Paris?" }];
  const fnCalls = (output) => calls(output.filter((o) => o.type === "function_call").map((c) => ({ name: c.name, args: c.arguments })));
  const withTools = await client.responses.create({ model: TOOLS, input: ask, tools });
  out.openai_responses_tool_calls = fnCalls(withTools.output);

  const streamed = await client.responses.stream({ model: TOOLS, input: ask, tools }).finalResponse();
  out.openai_responses_stream_tools = fnCalls(streamed.output);

  // The calls go back as they came, with their outputs.
  const outputs = streamed.output
    .filter((o) => o.type === "function_call")
    .map((c) => ({ type: "function_call_output", call_id: c.call_id, output: c.name === "get_weather" ? "sunny" : "noon" }));
  const answer = await client.responses.create({ model: TOOLS, input: [...ask, ...streamed.output, ...outputs], tools });
  out.openai_responses_tool_answer = answer.output_text;

  try {
    await client.responses.create({ model: "gpt-17", input: "Hello!" });
    out.openai_responses_404 = "no error";
  } catch (err) {
    out.openai_responses_404 = `${err.status} ${err.code}`;
  }

  try {
    const cut = await client.responses.create({ model: CUT, input: "Hello!", stream: true });
    for await (const _ of cut) {
      // drain
    }
    out.openai_responses_cut_failed = false;
  } catch {
    out.openai_responses_cut_failed = true;
  }
}

async function vercelAISDK() {
  // As seed 001 shows it: ashna(modelId) speaks the Responses API, and
  // ashna.chat(modelId) chat completions.
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

  // Exactly as seed 001 writes it: the Responses API.
  {
    const { text } = await generateText({ model: ashna(modelId), prompt: "Hello!" });
    out.ai_responses_generate_text = text;

    const result = streamText({ model: ashna(modelId), messages: [{ role: "user", content: "Hello!" }] });
    let streamed = "";
    for await (const piece of result.textStream) streamed += piece;
    out.ai_responses_stream_text = streamed;
    out.ai_responses_stream_usage = (await result.usage).totalTokens;

    const asked = await generateText({ model: ashna(TOOLS), prompt: "Weather and time in Paris?", tools });
    out.ai_responses_tool_calls = calls(asked.toolCalls.map((c) => ({ name: c.toolName, args: JSON.stringify(c.input) })));

    const streamedTools = streamText({ model: ashna(TOOLS), prompt: "Weather and time in Paris?", tools });
    out.ai_responses_stream_tools = calls((await streamedTools.toolCalls).map((c) => ({ name: c.toolName, args: JSON.stringify(c.input) })));

    // The SDK runs the tools and sends their results back for the answer.
    const running = {
      get_weather: tool({ description: "Weather of a city", inputSchema: jsonSchema(weatherSchema), execute: async ({ city }) => `sunny in ${city}` }),
      get_time: tool({ inputSchema: jsonSchema({ type: "object", properties: {} }), execute: async () => "noon" }),
    };
    const ran = await generateText({ model: ashna(TOOLS), prompt: "Weather and time in Paris?", tools: running, stopWhen: stepCountIs(3) });
    out.ai_responses_tool_round_trip = `${ran.steps.length} steps: ${ran.text}`;
    const ranStream = streamText({ model: ashna(TOOLS), prompt: "Weather and time in Paris?", tools: running, stopWhen: stepCountIs(3) });
    out.ai_responses_stream_tool_round_trip = `${(await ranStream.steps).length} steps: ${await ranStream.text}`;

    // A conversation that goes on: the SDK refers to the assistant's
    // earlier text by its item id (item_reference), which the gateway
    // kept. The requests are watched to see it does.
    const bodies = [];
    const watched = createOpenAI({
      baseURL: cfg.base_url,
      apiKey: cfg.api_key,
      fetch: async (url, init) => {
        bodies.push(String(init?.body ?? ""));
        return fetch(url, init);
      },
    });
    const first = await generateText({ model: watched(modelId), messages: [{ role: "user", content: "Hi" }] });
    const second = await generateText({
      model: watched(modelId),
      messages: [{ role: "user", content: "Hi" }, ...first.response.messages, { role: "user", content: "And again?" }],
    });
    out.ai_responses_multi_turn = second.text;
    out.ai_responses_item_reference_sent = bodies.length === 2 && bodies[1].includes('"item_reference"');

    // A stream the upstream cuts reports an error, and finishes for it.
    const cut = streamText({ model: ashna(CUT), prompt: "Hello!", onError: () => {} });
    const parts = [];
    for await (const part of cut.fullStream) parts.push(part.type);
    out.ai_responses_cut_error = parts.includes("error") && (await cut.finishReason) === "error";
  }
}

// An agent as the model ("model" is its id; cfg.agent): the agent answers,
// its runs streamed as OpenAI chunks, through both clients.
async function agentAsModel() {
  const client = new OpenAI({ apiKey: cfg.api_key, baseURL: cfg.base_url, maxRetries: 0 });
  const hello = [{ role: "user", content: "Hello agent" }];
  const response = await client.chat.completions.create({ model: cfg.agent, messages: hello });
  out.agent_text = response.choices[0].message.content;
  out.agent_id = response.id;
  let text = "";
  const stream = await client.chat.completions.create({ model: cfg.agent, messages: hello, stream: true });
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  out.agent_stream_text = text;
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  out.agent_listed = ids.includes(cfg.agent);

  const ashna = createOpenAI({ baseURL: cfg.base_url, apiKey: cfg.api_key });
  out.agent_ai_generate_text = (await generateText({ model: ashna.chat(cfg.agent), prompt: "Hello agent" })).text;
  out.agent_ai_stream_text = await streamText({ model: ashna.chat(cfg.agent), prompt: "Hello agent" }).text;
}

if (cfg.agent) {
  await agentAsModel();
} else {
  await officialClient();
  await officialResponses();
  await vercelAISDK();
}
process.stdout.write(JSON.stringify(out));
