// npm run flash [-- --dry-run]: build, check, and save the bundle + iot.json to the board with the Espruino CLI.
import { main } from "./flash/upload";

main("flash");
