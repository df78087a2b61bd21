// Plays a video in Debian's chromium the way a viewer's browser would, and hands back chosen frames as pixels.
// usage: node play_frames.mjs PAGE_URL FPS FRAME [FRAME ...]
// PAGE_URL serves a page with one <video id="v"> (same origin as the video, so the canvas may be read).
// Prints one JSON object: the media error if any, the duration, and per frame its RGBA pixels in base64.
import { createRequire } from "node:module";
import path from "node:path";

const { chromium } = createRequire(path.join(process.env.UGC_SWAP_NODE_MODULES, "/"))("playwright-core");

const [pageUrl, fps, ...frames] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage();
  await page.goto(pageUrl, { waitUntil: "domcontentloaded" });
  const report = await page.evaluate(async ({ fps, frames }) => {
    const video = document.getElementById("v");
    const event = (name) => new Promise((resolve) => video.addEventListener(name, resolve, { once: true }));
    if (video.readyState < 2) {
      await Promise.race([event("loadeddata"), event("error")]);
    }
    if (video.error) return { error: `${video.error.code}: ${video.error.message}` };
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const shown = [];
    for (const frame of frames) {
      // The middle of the frame's display interval, so rounding cannot land on a neighbour.
      video.currentTime = (frame + 0.5) / fps;
      await Promise.race([event("seeked"), event("error")]);
      if (video.error) return { error: `${video.error.code}: ${video.error.message}`, at: frame };
      context.drawImage(video, 0, 0);
      const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let binary = "";
      for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
      shown.push({ frame, rgba: btoa(binary) });
    }
    return { error: null, duration: video.duration, width: canvas.width, height: canvas.height, frames: shown };
  }, { fps: Number(fps), frames: frames.map(Number) });
  console.log(JSON.stringify(report));
} finally {
  await browser.close();
}
