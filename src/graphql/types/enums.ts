import { DunbarCircle, FrequencyPreference, ContactSource } from '../../generated/prisma/enums.ts'
import { builder } from '../builder.ts'

export const DunbarCircleEnum = builder.enumType(DunbarCircle, {
  name: 'DunbarCircle',
  description: 'Dunbar circle: INNER 5, CLOSE 15, ACTIVE 50, CASUAL 150, ACQUAINTANCE 500.',
})

export const FrequencyPreferenceEnum = builder.enumType(FrequencyPreference, {
  name: 'FrequencyPreference',
  description: 'How often to be in touch. FLEXIBLE follows the Dunbar circle.',
})

export const ContactSourceEnum = builder.enumType(ContactSource, { name: 'ContactSource' })
