/**
 * What MiniMax Speech 02 accepts, as data: system voice ids, emotions and
 * models. A voice id outside the system list is taken as a cloned voice (its
 * shape is still checked); the list is from the provider's model page
 * (https://wavespeed.ai/models/minimax/speech-02-hd, read 2026-11-29).
 */
export const SYSTEM_VOICES = [
  'Wise_Woman',
  'Friendly_Person',
  'Inspirational_girl',
  'Deep_Voice_Man',
  'Calm_Woman',
  'Casual_Guy',
  'Lively_Girl',
  'Patient_Man',
  'Young_Knight',
  'Determined_Man',
  'Lovely_Girl',
  'Decent_Boy',
  'Imposing_Manner',
  'Elegant_Man',
  'Abbess',
  'Sweet_Girl_2',
  'Exuberant_Girl',
] as const;

export const EMOTIONS = ['happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised', 'neutral'] as const;

export const SPEECH_MODELS = ['speech-02-hd', 'speech-02-turbo'] as const;

/** A cloned voice id as the provider issues them: letters first, then letters, digits, `_` or `-`. */
export const VOICE_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{2,255}$/;

/** System voices whose names say a woman's or girl's voice (the local voice picks a female variant for them). */
export function soundsFemale(voice: string): boolean {
  return /woman|girl|abbess|lovely|sweet/i.test(voice);
}
