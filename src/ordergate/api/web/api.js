// The API as the blotter calls it: the key in the X-API-Key header, errors in the API's
// {reason_code, detail} shape, and the live stream read with fetch() (an EventSource
// cannot send a header, and the key must never be put in a URL).

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async call(method, path, body) {
    const init = { method, headers: { "X-API-Key": this.key }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { reason_code: `HTTP_${response.status}`, detail: text.slice(0, 200) };
    }
    if (!response.ok) {
      const detail = typeof data?.detail === "string" ? data.detail : JSON.stringify(data?.detail);
      throw new ApiError(response.status, data?.reason_code ?? `HTTP_${response.status}`, detail);
    }
    return data;
  }

  get(path) {
    return this.call("GET", path);
  }

  post(path, body) {
    return this.call("POST", path, body ?? {});
  }

  // Read GET /v1/stream until it ends or `signal` aborts; `onMessage(name, data, id)` for
  // each server-sent event. Resolves when the server ends the stream.
  async stream(onMessage, signal) {
    const response = await fetch("/v1/stream", {
      headers: { "X-API-Key": this.key, Accept: "text/event-stream" },
      cache: "no-store",
      signal,
    });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new ApiError(response.status, data.reason_code ?? `HTTP_${response.status}`, data.detail ?? "");
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        let id = null;
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length) onMessage(name, JSON.parse(data.join("\n")), id);
      }
    }
  }
}
