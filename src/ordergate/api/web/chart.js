// Account equity over time: one SVG polyline, drawn by hand (a few dozen lines do not
// justify a charting library; docs/decisions/0023).

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 160;
const PAD = 6;

export function drawEquity(svg, samples) {
  svg.replaceChildren();
  if (samples.length < 2) return;
  const values = samples.map((s) => s.value);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const x = (i) => PAD + (i * (WIDTH - 2 * PAD)) / (samples.length - 1);
  const y = (v) => HEIGHT - PAD - ((v - low) * (HEIGHT - 2 * PAD)) / (high - low);
  const points = samples.map((s, i) => `${x(i).toFixed(1)},${y(s.value).toFixed(1)}`).join(" ");
  const area = document.createElementNS(SVG, "polygon");
  area.setAttribute("points", `${x(0)},${HEIGHT - PAD} ${points} ${x(samples.length - 1)},${HEIGHT - PAD}`);
  area.setAttribute("class", "area");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("class", "line");
  const first = document.createElementNS(SVG, "line");
  first.setAttribute("x1", PAD);
  first.setAttribute("x2", WIDTH - PAD);
  first.setAttribute("y1", y(samples[0].value));
  first.setAttribute("y2", y(samples[0].value));
  first.setAttribute("class", "baseline");
  svg.append(area, first, line);
}
