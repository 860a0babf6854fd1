import { DOMImplementation, type Document, type Element, type Node } from '@xmldom/xmldom';

/** Reading: the element children of an element (all, or those of one local name). */
export function children(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || (n as Element).localName === name)) out.push(n as Element);
  }
  return out;
}

export function child(el: Element, name: string): Element | undefined {
  return children(el, name)[0];
}

/** An element's text, trimmed; undefined when there is none. */
export function text(el: Element | undefined): string | undefined {
  const t = el?.textContent?.trim();
  return t === '' ? undefined : t;
}

/** Where an element is in its document, for messages. */
export function line(el: Element): string {
  return `line ${(el as unknown as { lineNumber?: number }).lineNumber ?? '?'}`;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** Attributes in the order they are written; undefined ones are left out. */
export type Attrs = Record<string, string | number | undefined>;

const XMLNS = 'http://www.w3.org/2000/xmlns/';

/**
 * A document built with the DOM and written out the way guestabi has always written domain XML
 * (and as virsh prints it): block elements put each child on a line of its own, two spaces deeper;
 * every other element is written on one line with its content; attributes in single quotes.
 */
export class XmlWriter {
  readonly doc: Document;
  private readonly blocks = new WeakSet<Element>();

  /** `namespaces`: the prefixes element names may carry, with their URIs. */
  constructor(
    root: string,
    private readonly namespaces: Record<string, string> = {},
  ) {
    this.doc = new DOMImplementation().createDocument(null, root, null);
    this.blocks.add(this.root);
  }

  get root(): Element {
    return this.doc.documentElement!;
  }

  /** An element written on one line with its content. */
  add(parent: Element, name: string, attrs: Attrs = {}, content?: string): Element {
    const prefix = name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined;
    const uri = prefix === undefined ? undefined : this.namespaces[prefix];
    const el = uri ? this.doc.createElementNS(uri, name) : this.doc.createElement(name);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
    if (content !== undefined) el.appendChild(this.doc.createTextNode(content));
    parent.appendChild(el);
    return el;
  }

  /** An element whose children go on lines of their own. */
  addBlock(parent: Element, name: string, attrs: Attrs = {}): Element {
    const el = this.add(parent, name, attrs);
    this.blocks.add(el);
    return el;
  }

  /** Declare a namespace prefix on an element (xmlns:prefix). */
  declare(el: Element, prefix: string): void {
    el.setAttributeNS(XMLNS, `xmlns:${prefix}`, this.namespaces[prefix]!);
  }

  serialize(): string {
    return this.write(this.root, '') + '\n';
  }

  private write(el: Element, indent: string): string {
    let open = `<${el.tagName}`;
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      open += ` ${a.name}='${escapeXml(a.value)}'`;
    }
    if (this.blocks.has(el)) {
      const inner = children(el).map((c) => `${indent}  ${this.write(c, `${indent}  `)}\n`);
      return `${open}>\n${inner.join('')}${indent}</${el.tagName}>`;
    }
    if (!el.firstChild) return `${open}/>`;
    let content = '';
    for (let n: Node | null = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1) content += this.write(n as Element, indent);
      else if (n.nodeType === 3) content += escapeXml(n.nodeValue ?? '');
    }
    return `${open}>${content}</${el.tagName}>`;
  }
}
