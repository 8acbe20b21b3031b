// The official Telnyx Node SDK (telnyx@7.24.0) driving the emulator's main operations, as a second
// independent client. Usage: node main_ops.mjs BASE_URL. Prints one JSON object: what each call saw.
// Run by tests/emulator/test_emulator_node_sdk.py, which checks the answers.
import Telnyx from 'telnyx';

const client = new Telnyx({ apiKey: 'node-sdk-key', baseURL: process.argv[2], maxRetries: 0, timeout: 20000 });
const ai = client.ai;
const seen = {};

const tool = await ai.tools.create({
  display_name: 'order-lookup', type: 'webhook',
  webhook: { name: 'lookup', description: 'Look up an order', url: 'https://example.com/orders' },
});
seen.tool = tool;
const mcp = await ai.mcpServers.create({ name: 'docs', type: 'http', url: 'https://mcp.example.com' });
seen.mcp = mcp;
const bot = await ai.assistants.create({
  name: 'node-support', instructions: 'Help the caller.', model: 'openai/gpt-4o', tool_ids: [tool.id],
  mcp_servers: [{ id: mcp.id }], tags: ['node'],
});
seen.created = bot;
seen.retrieved = await ai.assistants.retrieve(bot.id);
seen.updated = await ai.assistants.update(bot.id, { greeting: 'Hello from node' });
const draft = await ai.assistants.update(bot.id, { greeting: 'Draft', promote_to_main: false });
seen.draft = draft;
seen.listed = await ai.assistants.list();
seen.versions = await ai.assistants.versions.list(bot.id);
seen.canary = await ai.assistants.canaryDeploys.create(bot.id, {
  rules: [
    { match: [{ attribute: 'from', operator: 'starts_with', values: ['+4420'] }], serve: { version_id: draft.version_id } },
    { serve: { rollout: [{ version_id: draft.version_id, weight: 10 }] } },
  ],
});
seen.canaryRead = await ai.assistants.canaryDeploys.retrieve(bot.id);
seen.canaryUpdated = await ai.assistants.canaryDeploys.update(bot.id, {
  rules: [{ serve: { rollout: [{ version_id: draft.version_id, weight: 30 }] } }],
});
await ai.assistants.canaryDeploys.delete(bot.id);
seen.promoted = await ai.assistants.versions.promote(draft.version_id, { assistant_id: bot.id });
seen.tools = [];
for await (const t of ai.tools.list()) seen.tools.push(t);
seen.mcps = [];
for await (const m of ai.mcpServers.list()) seen.mcps.push(m);
seen.deleted = await ai.assistants.delete(bot.id);
try {
  await ai.assistants.retrieve('assistant-missing');
  seen.missing = 'no error';
} catch (err) {
  seen.missing = { status: err.status, name: err.constructor.name };
}
await ai.tools.delete(tool.id);
await ai.mcpServers.delete(mcp.id);
console.log(JSON.stringify(seen));
