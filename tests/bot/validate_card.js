// Checks Adaptive Cards with the renderer's own object model (npm "adaptivecards", installed in
// tests/node). Input on stdin: one JSON object per line, {"name": ..., "card": {...}}. Output on
// stdout: a first line {"adaptivecards": VERSION}, then one line per card,
// {"name": ..., "problems": ["Parse/UnknownElementType: ...", ...]}; no problems means valid.
//
// Four kinds of problem are reported:
//   1. events logged while parsing with a SerializationContext targeting the card's declared
//      version (unknown element or action types, invalid enum values, elements and properties
//      newer than that version, ...);
//   2. events from card.validateProperties() (missing card type or version, a version above 1.5,
//      duplicate ids, empty collections, ...);
//   3. a root without "type": "AdaptiveCard" or without "version" (the object model defaults both);
//   4. properties the object model does not keep on a round trip (parse, then toJSON): the parser
//      silently ignores unknown properties, so a typo like "colour" would otherwise pass. A property
//      set to its default value is dropped too and reported as well — just don't send it.
// Exit status: 0 when every card was checked (valid or not), 3 when the package is missing.
"use strict";

const path = require("path");
const { createRequire } = require("module");

// Teams-only extensions that the object model does not know, allowed where Teams reads them.
const HOST_EXTENSIONS = new Set(["$.msteams"]);

function loadAdaptiveCards() {
  const requireFromTools = createRequire(path.join(__dirname, "..", "node", "package.json"));
  try {
    return {
      AC: requireFromTools("adaptivecards/dist/adaptivecards.js"),
      version: requireFromTools("adaptivecards/package.json").version,
    };
  } catch (error) {
    process.stderr.write(`adaptivecards is not installed (npm ci --prefix tests/node): ${error.message}\n`);
    process.exit(3);
  }
}

function describe(AC, stage, event) {
  return `${stage}/${AC.ValidationEvent[event.event]}: ${event.message}`;
}

function droppedProperties(original, roundTripped, where, problems) {
  if (Array.isArray(original)) {
    if (!Array.isArray(roundTripped) || roundTripped.length !== original.length) {
      problems.push(`RoundTrip/ArrayChanged: ${where} had ${original.length} entries, kept ` +
        `${Array.isArray(roundTripped) ? roundTripped.length : "none"}`);
      return;
    }
    original.forEach((item, index) => droppedProperties(item, roundTripped[index], `${where}[${index}]`, problems));
    return;
  }
  if (original === null || typeof original !== "object") {
    return;
  }
  if (roundTripped === null || typeof roundTripped !== "object") {
    problems.push(`RoundTrip/ObjectDropped: ${where} was not kept`);
    return;
  }
  for (const key of Object.keys(original)) {
    const at = `${where}.${key}`;
    if (HOST_EXTENSIONS.has(at)) {
      continue;
    }
    if (!(key in roundTripped)) {
      problems.push(`RoundTrip/UnknownOrDefaultProperty: ${at} = ${JSON.stringify(original[key])} ` +
        "is unknown to the object model or has its default value");
      continue;
    }
    droppedProperties(original[key], roundTripped[key], at, problems);
  }
}

function declaredVersion(AC, json) {
  const known = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"];
  const version = json && json.version;
  return known.includes(version) ? AC.Versions[`v1_${version.slice(2)}`] : undefined;
}

// The object model silently defaults a missing "type" and "version" (to 1.0); hosts do not.
function rootProblems(json) {
  const problems = [];
  if (json === null || typeof json !== "object" || json.type !== "AdaptiveCard") {
    problems.push('Card/MissingCardType: the root must have "type": "AdaptiveCard"');
  }
  if (!json || typeof json.version !== "string") {
    problems.push('Card/MissingVersion: the root must declare "version"');
  }
  return problems;
}

function check(AC, json) {
  const problems = rootProblems(json);
  // Elements and properties are checked against the version the card declares; the card may not
  // declare more than 1.5, the version Teams renders (the package itself knows 1.6).
  const target = declaredVersion(AC, json) || AC.Versions.v1_5;
  const card = new AC.AdaptiveCard();
  const parsing = new AC.SerializationContext(target);
  card.parse(json, parsing);
  card.maxVersion = AC.Versions.v1_5;
  for (let i = 0; i < parsing.eventCount; i++) {
    problems.push(describe(AC, "Parse", parsing.getEventAt(i)));
  }
  const results = card.validateProperties();
  for (const event of results.validationEvents) {
    problems.push(describe(AC, "Validate", event));
  }
  const serialized = card.toJSON(new AC.SerializationContext(target));
  droppedProperties(json, serialized, "$", problems);
  return problems;
}

function main() {
  const { AC, version } = loadAdaptiveCards();
  const input = require("fs").readFileSync(0, "utf8");
  const output = [JSON.stringify({ adaptivecards: version })];
  for (const line of input.split("\n")) {
    if (!line.trim()) {
      continue;
    }
    const { name, card } = JSON.parse(line);
    let problems;
    try {
      problems = check(AC, card);
    } catch (error) {
      problems = [`Crash: ${error.stack || error}`];
    }
    output.push(JSON.stringify({ name, problems }));
  }
  process.stdout.write(output.join("\n") + "\n");
}

main();
