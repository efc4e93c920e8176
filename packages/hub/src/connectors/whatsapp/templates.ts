import type { GraphApi } from "../meta/graph.js";

interface GraphTemplate {
  name: string;
  language: string;
  status: string;
  components?: { type: string; text?: string }[];
}

/**
 * The business account's approved message templates, as the portal offers them: the body text
 * and how many `{{n}}` parameters it takes. Pages are followed up to `maxPages`.
 */
export async function listTemplates(
  graph: GraphApi,
  businessAccountId: string,
  maxPages = 10,
): Promise<{ name: string; language: string; body: string; parameters: number }[]> {
  const out: { name: string; language: string; body: string; parameters: number }[] = [];
  let after: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const r = await graph.get<{
      data: GraphTemplate[];
      paging?: { cursors?: { after?: string }; next?: string };
    }>(`${businessAccountId}/message_templates`, {
      fields: "name,language,status,components",
      limit: "100",
      ...(after ? { after } : {}),
    });
    for (const t of r.data ?? []) {
      if (t.status !== "APPROVED") continue;
      const body = t.components?.find((c) => c.type === "BODY")?.text ?? "";
      const params = new Set(body.match(/\{\{\s*[\w]+\s*\}\}/g) ?? []);
      out.push({ name: t.name, language: t.language, body, parameters: params.size });
    }
    after = r.paging?.next ? r.paging.cursors?.after : undefined;
    if (!after) break;
  }
  return out;
}
