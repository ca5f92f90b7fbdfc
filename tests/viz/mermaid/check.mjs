// Parse Mermaid texts with Mermaid's own parser; used by tests/viz/test_real_mermaid.py.
// Reads a JSON list of [name, text] on stdin and prints a JSON list of [name, error-or-null].
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["Element", "HTMLElement", "SVGElement", "Node", "DOMParser"]) {
  globalThis[name] = dom.window[name];
}
const mermaid = (await import("mermaid")).default;
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const [name, text] of JSON.parse(input)) {
  try {
    await mermaid.parse(text);
    results.push([name, null]);
  } catch (error) {
    results.push([name, String(error?.message ?? error)]);
  }
}
process.stdout.write(JSON.stringify(results));
