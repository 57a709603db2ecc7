// Lays out the Twemoji images of npm emoji-datasource-twitter@16.0.0 as a labelled folder,
// .data/emoji/images/<category>/<image>.png, with the category of each emoji from
// emoji-datasource@16.0.0's emoji.json (top-level entries, "Component" left out: skin-tone
// swatches and hair pieces are not pictures of anything). Images: CC BY 4.0, attribution in
// .data/emoji/LICENSE. Called by scripts/install-datasets.sh.
"use strict";
const fs = require("fs");
const path = require("path");

const data = path.resolve(process.argv[2] || ".data");
const mods = path.join(data, "node_modules");
const emoji = JSON.parse(fs.readFileSync(path.join(mods, "emoji-datasource/emoji.json"), "utf8"));
const imgDir = path.join(mods, "emoji-datasource-twitter/img/twitter/64");
const out = path.join(data, "emoji");
const tmp = out + ".tmp";
fs.rmSync(tmp, { recursive: true, force: true });

const slug = (c) => c.toLowerCase().replace(/&/g, "and").replace(/[^a-z0-9]+/g, "-");
let count = 0;
const perClass = {};
for (const e of emoji) {
  if (e.category === "Component" || !e.has_img_twitter) continue;
  const src = path.join(imgDir, e.image);
  if (!fs.existsSync(src)) continue;
  const dir = path.join(tmp, "images", slug(e.category));
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(src, path.join(dir, e.image));
  perClass[slug(e.category)] = (perClass[slug(e.category)] || 0) + 1;
  count++;
}
fs.writeFileSync(
  path.join(tmp, "LICENSE"),
  [
    "Emoji images: Twemoji graphics, Copyright 2019 Twitter, Inc and other contributors,",
    "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).",
    "Taken from the npm package emoji-datasource-twitter@16.0.0 (img/twitter/64);",
    "categories from emoji-datasource@16.0.0 (emoji.json, MIT, Copyright 2013 Cal Henderson).",
    "Transparent pixels are composited on white when Icicle Explorer loads them.",
    "",
  ].join("\n")
);
fs.rmSync(out, { recursive: true, force: true });
fs.renameSync(tmp, out);
console.log(`datasets: emoji: ${count} images in ${Object.keys(perClass).length} classes`, perClass);
