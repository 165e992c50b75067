/** Deeper than any registry needs; stops a hostile file from exhausting the stack. */
const MAX_DEPTH = 64;

/**
 * JSON pointers of every object key that appears twice in the same object. JSON.parse keeps
 * the last one silently, so without this a reviewer could read one value while the signature
 * and the node use another. `text` must already be valid JSON.
 */
export function findDuplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (" \t\n\r".includes(text.charAt(i)) && i < text.length) i++;
  };
  const readString = (): string => {
    const start = i++;
    while (text.charAt(i) !== '"') i += text.charAt(i) === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (pointer: string, depth: number): void => {
    skipSpace();
    const c = text.charAt(i);
    if ((c === "{" || c === "[") && depth >= MAX_DEPTH) {
      i = text.length;
      return;
    }
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      skipSpace();
      if (text.charAt(i) === "}") {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        const key = readString();
        const child = `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
        if (seen.has(key)) found.push(child);
        seen.add(key);
        skipSpace();
        i++; // the colon
        readValue(child, depth + 1);
        skipSpace();
        if (text.charAt(i++) !== ",") return;
      }
    }
    if (c === "[") {
      i++;
      skipSpace();
      if (text.charAt(i) === "]") {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        readValue(`${pointer}/${index}`, depth + 1);
        skipSpace();
        if (text.charAt(i++) !== ",") return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    while (i < text.length && !",}] \t\n\r".includes(text.charAt(i))) i++;
  };
  readValue("", 0);
  return found;
}
