// Loads each saved workflow into a real ComfyUI web UI in Debian's chromium and reports what an artist would see.
// usage: node check_workflows.mjs COMFY_URL OUT_DIR RUN_WORKFLOW_TITLE WORKFLOW.json [WORKFLOW.json ...]
// Prints one JSON object: per workflow, missing node types, a missing-nodes dialog if shown, our nodes' widgets,
// the API prompt the UI itself builds (app.graphToPrompt) and the layout once every preview has loaded (node and
// group boxes on the canvas and on screen, and which of their points the page's own panels cover); for
// RUN_WORKFLOW_TITLE it queues the graph from the UI, waits for the result video in the page, and reads the
// layout again with the output previews in place.
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
const VIEWPORT = { width: 1920, height: 960 };  // a browser window on a 1920×1080 screen (tools/ui_layout.py)

// Waits until every <video> in the page has a frame and every node's image preview has decoded.
async function previewsLoaded(page) {
  await page.waitForFunction(() => {
    const nodes = window.app.graph._nodes || window.app.graph.nodes;
    const videos = [...document.querySelectorAll("video")];
    return videos.every((v) => v.readyState >= 2) && nodes.every((n) => (n.imgs || []).every((i) => i.complete));
  }, null, { timeout: 120000 });
  await page.waitForTimeout(1000);  // the frontend resizes nodes on the next frames
}

// Canvas and screen boxes of every node (title bar included) and group, and the points of each that something
// other than the canvas or a node's own widget covers (the side bar, the menus, the minimap).
function readLayout() {
  const canvas = window.app.canvas;
  const { scale, offset } = canvas.ds;
  const titleHeight = window.LiteGraph.NODE_TITLE_HEIGHT;
  const toScreen = ([x, y, w, h]) => [(x + offset[0]) * scale, (y + offset[1]) * scale, w * scale, h * scale];
  const coveredPoints = ([x, y, w, h]) => {
    const inset = 4;
    const points = [[x + inset, y + inset], [x + w - inset, y + inset], [x + inset, y + h - inset],
                    [x + w - inset, y + h - inset], [x + w / 2, y + inset], [x + w / 2, y + h / 2]];
    return points.flatMap(([px, py]) => {
      const hit = document.elementFromPoint(px, py);
      const ours = hit === canvas.canvas || (hit && hit.closest(".dom-widget"));
      return ours ? [] : [{ point: [Math.round(px), Math.round(py)],
                            by: hit ? `${hit.tagName}.${String(hit.className).slice(0, 60)}` : "outside the page" }];
    });
  };
  const nodes = (window.app.graph._nodes || window.app.graph.nodes).map((n) => {
    const box = [n.pos[0], n.pos[1] - titleHeight, n.size[0], n.size[1] + titleHeight];
    const screen = toScreen(box);
    return { id: n.id, type: n.type, title: n.title, box, screen, covered: coveredPoints(screen) };
  });
  const groups = (window.app.graph._groups || window.app.graph.groups || []).map((g) => {
    const box = [...g._bounding || g.bounding];
    const screen = toScreen(box);
    return { title: g.title, box, screen, covered: coveredPoints([screen[0], screen[1], screen[2], 40 * scale]) };
  });
  return { scale, low_quality: Boolean(canvas.low_quality), viewport: [window.innerWidth, window.innerHeight],
           nodes, groups };
}
// An artist who has used ComfyUI once no longer gets the templates browser over the canvas.
await fetch(`${comfyUrl}/settings/Comfy.TutorialCompleted`, { method: "POST", body: "true" });
try {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const consoleErrors = [];
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  await page.goto(comfyUrl, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app && window.app.graph && window.LiteGraph, null, { timeout: 120000 });
  for (const file of workflows) {
    const name = path.basename(file);
    const graph = JSON.parse(readFileSync(file, "utf8"));
    await page.evaluate(async (data) => { await window.app.loadGraphData(data); }, graph);
    await previewsLoaded(page);
    const seen = await page.evaluate(async () => {
      const nodes = window.app.graph._nodes || window.app.graph.nodes;
      const registered = window.LiteGraph.registered_node_types;
      const { output } = await window.app.graphToPrompt();
      // Text-area widgets carry no tooltip of their own; the node's schema from /object_info has it.
      const schemaTooltip = (n, name) => {
        const inputs = (n.constructor.nodeData || {}).input || {};
        const spec = (inputs.required || {})[name] || (inputs.optional || {})[name];
        return (spec && spec[1] && spec[1].tooltip) || null;
      };
      const dialogs = [...document.querySelectorAll(".p-dialog, .p-toast-message")].map((d) => d.innerText)
        .filter(Boolean);
      return {
        missing: nodes.filter((n) => !registered[n.type]).map((n) => n.type),
        dialogs,
        nodes: nodes.map((n) => ({
          id: n.id, type: n.type, title: n.title, color: n.color || null,
          widgets: (n.widgets || []).map((w) => ({ name: w.name, label: w.label || null, value: w.value,
                                                   options: w.options ? { min: w.options.min, max: w.options.max } : null,
                                                   tooltip: w.tooltip || (w.options && w.options.tooltip) || schemaTooltip(n, w.name) })),
        })),
        prompt: output,
      };
    });
    seen.layout = await page.evaluate(readLayout);
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
      // The video shows while Swap quality still runs: wait for the queue to empty and its sheet to be previewed.
      for (let busy = true; busy; await page.waitForTimeout(1000)) {
        const queue = await (await fetch(`${comfyUrl}/queue`)).json();
        busy = queue.queue_running.length + queue.queue_pending.length > 0 && Date.now() - started < 600000;
      }
      await page.waitForFunction(() => (window.app.graph._nodes || window.app.graph.nodes)
        .some((n) => n.type === "UGCSwapQuality" && (n.imgs || []).length), null, { timeout: 60000 });
      await previewsLoaded(page);
      report.run.layout = await page.evaluate(readLayout);
      await page.screenshot({ path: path.join(outDir, "after_run.png") });
    }
  }
  report.page_errors = consoleErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
