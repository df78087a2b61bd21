// Loads each saved workflow into a real ComfyUI web UI in Debian's chromium and reports what an artist would see.
// usage: node check_workflows.mjs COMFY_URL OUT_DIR RUN_WORKFLOW_TITLE WORKFLOW.json [WORKFLOW.json ...]
// Prints one JSON object: per workflow, missing node types, a missing-nodes dialog if shown, our nodes' widgets
// and the API prompt the UI itself builds (app.graphToPrompt); for RUN_WORKFLOW_TITLE it queues the graph from
// the UI and waits for the result video to be previewed in the page.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// playwright-core lives in the set-up cache beside the venv (bin/setup), not in the clone.
const { chromium } = createRequire(path.join(process.env.UGC_SWAP_NODE_MODULES, "/"))("playwright-core");

const [comfyUrl, outDir, runWorkflow, ...workflows] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-dev-shm-usage"],
});
const report = { workflows: {} };
// An artist who has used ComfyUI once no longer gets the templates browser over the canvas.
await fetch(`${comfyUrl}/settings/Comfy.TutorialCompleted`, { method: "POST", body: "true" });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const consoleErrors = [];
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  await page.goto(comfyUrl, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app && window.app.graph && window.LiteGraph, null, { timeout: 120000 });
  for (const file of workflows) {
    const name = path.basename(file);
    const graph = JSON.parse(readFileSync(file, "utf8"));
    await page.evaluate(async (data) => { await window.app.loadGraphData(data); }, graph);
    await page.waitForTimeout(1500);
    const seen = await page.evaluate(async () => {
      const nodes = window.app.graph._nodes || window.app.graph.nodes;
      const registered = window.LiteGraph.registered_node_types;
      const { output } = await window.app.graphToPrompt();
      const dialogs = [...document.querySelectorAll(".p-dialog, .p-toast-message")].map((d) => d.innerText)
        .filter(Boolean);
      return {
        missing: nodes.filter((n) => !registered[n.type]).map((n) => n.type),
        dialogs,
        nodes: nodes.map((n) => ({
          id: n.id, type: n.type, title: n.title, color: n.color || null,
          widgets: (n.widgets || []).map((w) => ({ name: w.name, label: w.label || null, value: w.value,
                                                   options: w.options ? { min: w.options.min, max: w.options.max } : null,
                                                   tooltip: w.tooltip || (w.options && w.options.tooltip) || null })),
        })),
        prompt: output,
      };
    });
    await page.screenshot({ path: path.join(outDir, name.replace(".json", ".png")) });
    report.workflows[name] = seen;
    if (name === runWorkflow) {
      await page.evaluate(async () => { await window.app.queuePrompt(0, 1); });
      const started = Date.now();
      // LoadVideo previews its input in a <video> too: wait for one that shows an output file.
      const outputVideo = () => [...document.querySelectorAll("video")]
        .find((v) => v.currentSrc.includes("type=output") && v.readyState >= 1);
      await page.waitForFunction(outputVideo, null, { timeout: 600000 });
      report.run = {
        seconds: (Date.now() - started) / 1000,
        ...(await page.evaluate(() => {
          const v = [...document.querySelectorAll("video")].find((e) => e.currentSrc.includes("type=output"));
          return { video_src: v.currentSrc, video_duration: v.duration };
        })),
      };
      await page.screenshot({ path: path.join(outDir, "after_run.png") });
    }
  }
  report.page_errors = consoleErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
