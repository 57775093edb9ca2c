import type * as http from "node:http";
export function createHttpApi(_cloud: any, _o: any) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => { res.statusCode = 404; res.end(); };
}
