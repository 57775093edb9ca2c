/**
 * MQTT byte-stream guard (pure, no I/O): reads each packet's fixed header as the bytes stream in and refuses a
 * packet as soon as its declared length is known to be beyond the limit, so nothing oversized is ever buffered,
 * before authentication or after. It also checks what the MQTT parser would silently repair: the first packet must
 * be CONNECT, and a PUBLISH topic must be valid UTF-8 without U+0000 (MQTT 3.1.1 section 1.5.3: close the
 * connection). Everything else about a packet is left to the MQTT parser.
 */
import { isUtf8 } from "node:buffer";

const enum Stage { FixedHeader, RemainingLength, TopicLength, Topic, Body }
const enum PacketType { Connect = 1, Publish = 3, Auth = 15 }

export class PacketGuard {
  private stage = Stage.FixedHeader;
  private packetType = 0;
  private remaining = 0;
  private lengthMultiplier = 1;
  private lengthBytes = 0;
  private topicLength = 0;
  private topicBytes: Buffer[] = [];
  private topicCollected = 0;
  private sawConnect = false;

  /** maxRemainingBytes: the largest Remaining Length (bytes after the fixed header) any packet may declare. */
  constructor(private readonly maxRemainingBytes: number) {}

  /** Feeds the next bytes received. Returns null while the stream is acceptable, else why it must be closed. */
  check(chunk: Buffer): string | null {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.stage) {
        case Stage.FixedHeader: {
          this.packetType = chunk[i++] >> 4;
          if (!this.sawConnect && this.packetType !== PacketType.Connect) return "the first packet must be CONNECT (got packet type " + this.packetType + ")";
          if (this.packetType === 0 || this.packetType === PacketType.Auth) return "packet type " + this.packetType + " is not an MQTT 3.1.1 packet";
          this.sawConnect = true;
          this.remaining = 0;
          this.lengthMultiplier = 1;
          this.lengthBytes = 0;
          this.stage = Stage.RemainingLength;
          break;
        }
        case Stage.RemainingLength: {
          const b = chunk[i++];
          this.remaining += (b & 127) * this.lengthMultiplier;
          this.lengthMultiplier *= 128;
          this.lengthBytes++;
          if (b & 128) {
            if (this.lengthBytes === 4) return "malformed Remaining Length (more than 4 bytes)";
            // refuse as early as the partial length already exceeds the limit
            if (this.remaining > this.maxRemainingBytes) return this.tooLarge();
            break;
          }
          if (this.remaining > this.maxRemainingBytes) return this.tooLarge();
          if (this.packetType === PacketType.Publish) {
            if (this.remaining < 2) return "PUBLISH without a topic";
            this.stage = Stage.TopicLength;
            this.topicLength = 0;
            this.lengthBytes = 0;
          } else this.stage = this.remaining ? Stage.Body : Stage.FixedHeader;
          break;
        }
        case Stage.TopicLength: {
          this.topicLength = this.topicLength * 256 + chunk[i++];
          this.remaining--;
          if (++this.lengthBytes < 2) break;
          if (this.topicLength > this.remaining) return "PUBLISH topic length " + this.topicLength + " runs past the end of the packet";
          this.topicBytes = [];
          this.topicCollected = 0;
          this.stage = this.topicLength ? Stage.Topic : this.remaining ? Stage.Body : Stage.FixedHeader;
          break;
        }
        case Stage.Topic: {
          const take = Math.min(this.topicLength - this.topicCollected, n - i);
          this.topicBytes.push(chunk.subarray(i, i + take));
          this.topicCollected += take;
          this.remaining -= take;
          i += take;
          if (this.topicCollected < this.topicLength) break;
          const topic = this.topicBytes.length === 1 ? this.topicBytes[0] : Buffer.concat(this.topicBytes);
          this.topicBytes = [];
          if (!isUtf8(topic)) return "PUBLISH topic is not valid UTF-8";
          if (topic.indexOf(0) >= 0) return "PUBLISH topic contains U+0000";
          this.stage = this.remaining ? Stage.Body : Stage.FixedHeader;
          break;
        }
        case Stage.Body: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (!this.remaining) this.stage = Stage.FixedHeader;
          break;
        }
      }
    }
    return null;
  }

  private tooLarge(): string {
    return "packet type " + this.packetType + " declares at least " + this.remaining + " bytes, over the limit of " + this.maxRemainingBytes;
  }
}
