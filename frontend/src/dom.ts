// Building DOM nodes. Text always goes in as text (textContent), never as HTML: names of projects,
// images and defect types are whatever their users typed.

export interface Props {
  className?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  dataset?: Record<string, string>;
  onClick?: (event: MouseEvent) => void;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  for (const [name, value] of Object.entries(props.dataset ?? {})) node.dataset[name] = value;
  if (props.onClick) (node as HTMLElement).addEventListener("click", props.onClick);
  for (const child of children) {
    if (child !== null) node.append(child);
  }
  return node;
}

/** A key as a <kbd>. */
export function kbd(key: string): HTMLElement {
  return el("kbd", { text: key });
}

/** A colour swatch; the colour is checked to be #rrggbb before it goes into a style. */
export function swatch(color: string): HTMLElement {
  const node = el("span", { className: "swatch" });
  if (/^#[0-9a-fA-F]{6}$/.test(color)) node.style.setProperty("--swatch", color);
  return node;
}

/** A picture, once it has loaded; an Error saying which when it cannot be. */
export function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load ${url}`));
    image.src = url;
  });
}

/** A canvas of this size with a 2D context that is read back often. */
export function canvasOf(width: number, height: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return [canvas, canvas.getContext("2d", { willReadFrequently: true })!];
}
