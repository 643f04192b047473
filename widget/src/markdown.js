// Bot text -> safe HTML: limited markdown (markdown-it with raw HTML off), then
// DOMPurify with a short allow-list. Only http(s), tel: and mailto: links survive.
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const md = new MarkdownIt("zero", { html: false, breaks: true, linkify: true })
  .enable(["emphasis", "link", "linkify", "list", "newline", "backticks", "paragraph"]);

const SAFE_URL = /^(?:https?:|tel:|mailto:)/i;

const purifier = DOMPurify();
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") || "";
    if (!SAFE_URL.test(href)) {
      node.removeAttribute("href");
    } else if (/^https?:/i.test(href)) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  }
});

const CONFIG = {
  ALLOWED_TAGS: ["p", "br", "strong", "em", "a", "ul", "ol", "li", "code"],
  ALLOWED_ATTR: ["href", "target", "rel"],
  ALLOWED_URI_REGEXP: SAFE_URL,
  RETURN_DOM_FRAGMENT: true,
};

/** Render bot text as a sanitized DocumentFragment (never a string of HTML). */
export function renderMarkdown(text) {
  return purifier.sanitize(md.render(String(text ?? "")), CONFIG);
}
