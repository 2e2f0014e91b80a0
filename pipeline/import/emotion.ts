/**
 * A screenplay's parenthetical ("angrily", "through tears") as one of the
 * emotions MiniMax Speech takes, when it clearly is one. Anything else is
 * stage direction for a person, not a setting for a voice, and is reported.
 */
export const SPEECH_EMOTIONS = ['happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised', 'neutral'] as const;
export type SpeechEmotion = (typeof SPEECH_EMOTIONS)[number];

const WORDS: Record<SpeechEmotion, readonly string[]> = {
  happy: ['happy', 'happily', 'cheerful', 'cheerfully', 'joyful', 'joyfully', 'delighted', 'laughing', 'beaming', 'glad'],
  sad: ['sad', 'sadly', 'tearful', 'tearfully', 'crying', 'sobbing', 'through tears', 'mournful', 'mournfully', 'heartbroken'],
  angry: ['angry', 'angrily', 'furious', 'furiously', 'enraged', 'annoyed', 'irritated', 'seething'],
  fearful: ['fearful', 'fearfully', 'afraid', 'scared', 'frightened', 'terrified', 'nervous', 'nervously', 'anxious', 'anxiously'],
  disgusted: ['disgusted', 'in disgust', 'revolted', 'repulsed'],
  surprised: ['surprised', 'shocked', 'astonished', 'amazed', 'stunned', 'startled'],
  neutral: ['neutral', 'flat', 'flatly', 'deadpan', 'calm', 'calmly', 'matter-of-fact', 'matter-of-factly'],
};

const BY_WORD = new Map<string, SpeechEmotion>(
  Object.entries(WORDS).flatMap(([emotion, words]) => words.map((w) => [w, emotion as SpeechEmotion] as const)),
);

/** "(Angrily)" → angry; "(to Ben)" → undefined. The whole parenthetical must be the word: "(angry at the dog)" is direction. */
export function emotionOf(parenthetical: string): SpeechEmotion | undefined {
  const words = parenthetical.toLowerCase().replace(/[.!,;]+$/g, '').replace(/\s+/g, ' ').trim();
  return BY_WORD.get(words);
}
