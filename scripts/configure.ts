// npm run configure [-- --dry-run]: rewrite only iot.json on the board (new WiFi or keys), no code sent.
import { main } from "./flash/upload";

main("configure");
