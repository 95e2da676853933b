// EC2 XML as the SDK parses it: camelCase elements, every list a wrapper of `<item>` children,
// `<requestId>` in success bodies and `<RequestID>` in the error envelope (reference/aws.md 1.5, 1.8).

/** A value rendered as XML: objects become child elements in key order, arrays become `<item>` lists. */
export type XmlValue = string | number | boolean | Date | undefined | readonly XmlValue[] | XmlObject;
export interface XmlObject {
  readonly [element: string]: XmlValue;
}

const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** Renders `value` as the element `name`; `undefined` renders nothing, so optional fields vanish. */
export function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) {
    const items = (value as readonly XmlValue[]).map((item) => renderElement('item', item)).join('');
    return items === '' ? `<${name}/>` : `<${name}>${items}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const children = Object.entries(value as XmlObject).map(([child, v]) => renderElement(child, v)).join('');
    return `<${name}>${children}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<{Action}Response xmlns=…><requestId>…</requestId>…body…</{Action}Response>` */
export function renderResponse(action: string, requestId: string, body: XmlObject): string {
  const children = renderElement('requestId', requestId) +
    Object.entries(body).map(([name, value]) => renderElement(name, value)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">${children}</${action}Response>`;
}

/** The EC2 error envelope: root `Response`, no `<Type>`, `RequestID` with a capital D. */
export function renderError(code: string, message: string, requestId: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>' +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
    `</Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
}
