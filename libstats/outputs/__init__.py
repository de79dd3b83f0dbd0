"""What people read: the Ministry's summary workbook (`summary`), the national report draft in Word
(`report`) and the feedback workbook sent back to a province (`feedback`)."""
