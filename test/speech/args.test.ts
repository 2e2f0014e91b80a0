import { describe, expect, it } from 'vitest';
import { espeakArgs, placeholderArgs } from '../../pipeline/providers/local/speech-args.ts';
import { speechBody } from '../../pipeline/providers/wavespeed/speech.ts';
import { speechKey, speechKeyInput } from '../../pipeline/speech/key.ts';
import { speechCostUsd, SPEECH_PRICES } from '../../pipeline/speech/prices.ts';
import type { SpeechSpec } from '../../pipeline/types.ts';

const spec: SpeechSpec = { text: '-rf starts like an option', voice: 'Calm_Woman', model: 'speech-02-hd', speed: 1.2, volume: 2, pitch: -3 };

describe('speech argument lists and keys (pure)', () => {
  it('espeak-ng reads the text from stdin (never as an argument), a female variant for a woman voice, rate/pitch/amplitude mapped and clamped', () => {
    const args = espeakArgs(spec, '/tmp/o.wav');
    expect(args).toEqual(['-v', 'en-us+f3', '-s', '210', '-p', '38', '-a', '200', '-w', '/tmp/o.wav', '--stdin']);
    expect(args).not.toContain(spec.text);
    expect(espeakArgs({ ...spec, voice: 'Deep_Voice_Man', pitch: 12, volume: 10 }, 'o.wav').slice(0, 8)).toEqual(['-v', 'en-us+m3', '-s', '210', '-p', '98', '-a', '200']);
  });

  it('the placeholder is a bitexact pulsed tone of the given length', () => {
    const args = placeholderArgs(1234, false, 'o.wav');
    expect(args.join(' ')).toContain('sine=frequency=196:sample_rate=22050:duration=1.234');
    expect(args).toEqual(expect.arrayContaining(['+bitexact', 'pcm_s16le']));
  });

  it('the MiniMax body carries the spec, the emotion only when set', () => {
    expect(speechBody(spec)).toEqual({ text: spec.text, voice_id: 'Calm_Woman', speed: 1.2, volume: 2, pitch: -3, english_normalization: true });
    expect(speechBody({ ...spec, emotion: 'angry' })).toMatchObject({ emotion: 'angry' });
  });

  it('the key changes with every input that changes the audio, and only those', () => {
    const key = (s: SpeechSpec, provider = 'wavespeed', model = s.model) => speechKey(speechKeyInput(provider, model, s));
    const base = key(spec);
    expect(base).toMatch(/^speech-[0-9a-f]{64}$/);
    expect(key({ ...spec })).toBe(base);
    const variants = [
      key({ ...spec, text: `${spec.text}.` }),
      key({ ...spec, voice: 'Wise_Woman' }),
      key({ ...spec, speed: 1 }),
      key({ ...spec, volume: 1 }),
      key({ ...spec, pitch: 0 }),
      key({ ...spec, emotion: 'sad' }),
      key(spec, 'wavespeed', 'speech-02-turbo'),
      key(spec, 'local', 'espeak-ng'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('prices per character: $0.05 per 1,000 (hd), $0.03 (turbo), code points counted', () => {
    expect(speechCostUsd('a'.repeat(1000), 'speech-02-hd', SPEECH_PRICES)).toBe(0.05);
    expect(speechCostUsd('a'.repeat(1000), 'speech-02-turbo', SPEECH_PRICES)).toBe(0.03);
    expect(speechCostUsd('😀'.repeat(100), 'speech-02-hd', SPEECH_PRICES)).toBe(0.005);
  });
});
