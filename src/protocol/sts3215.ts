/**
 * Feetech STS/SMS series control table (STS3215, the SO-100 / SO-101 servo).
 * Facts: ../shared/PROTOCOLS.md B4–B5 (LeRobot's names, Feetech's memory table).
 * Little-endian; negative values are sign-magnitude with the sign bits below.
 */
import type { RegisterSpec, ServoModel } from './control-table.ts';

export const STS_TABLE = {
  Firmware_Major: { address: 0, size: 1, access: 'r' },
  Firmware_Minor: { address: 1, size: 1, access: 'r' },
  Model_Number: { address: 3, size: 2, access: 'r' },
  ID: { address: 5, size: 1, access: 'rw' },
  Baud_Rate: { address: 6, size: 1, access: 'rw' },
  Return_Delay_Time: { address: 7, size: 1, access: 'rw' },
  Response_Status_Level: { address: 8, size: 1, access: 'rw' },
  Min_Position_Limit: { address: 9, size: 2, access: 'rw' },
  Max_Position_Limit: { address: 11, size: 2, access: 'rw' },
  Max_Temperature_Limit: { address: 13, size: 1, access: 'rw' },
  Max_Voltage_Limit: { address: 14, size: 1, access: 'rw' },
  Min_Voltage_Limit: { address: 15, size: 1, access: 'rw' },
  Max_Torque_Limit: { address: 16, size: 2, access: 'rw' },
  Phase: { address: 18, size: 1, access: 'rw' },
  Unloading_Condition: { address: 19, size: 1, access: 'rw' },
  LED_Alarm_Condition: { address: 20, size: 1, access: 'rw' },
  P_Coefficient: { address: 21, size: 1, access: 'rw' },
  D_Coefficient: { address: 22, size: 1, access: 'rw' },
  I_Coefficient: { address: 23, size: 1, access: 'rw' },
  Minimum_Startup_Force: { address: 24, size: 2, access: 'rw' },
  CW_Dead_Zone: { address: 26, size: 1, access: 'rw' },
  CCW_Dead_Zone: { address: 27, size: 1, access: 'rw' },
  Protection_Current: { address: 28, size: 2, access: 'rw' },
  Angular_Resolution: { address: 30, size: 1, access: 'rw' },
  Homing_Offset: { address: 31, size: 2, access: 'rw', signBit: 11 },
  Operating_Mode: { address: 33, size: 1, access: 'rw' },
  Protective_Torque: { address: 34, size: 1, access: 'rw' },
  Protection_Time: { address: 35, size: 1, access: 'rw' },
  Overload_Torque: { address: 36, size: 1, access: 'rw' },
  Velocity_Closed_Loop_P: { address: 37, size: 1, access: 'rw' },
  Over_Current_Protection_Time: { address: 38, size: 1, access: 'rw' },
  Velocity_Closed_Loop_I: { address: 39, size: 1, access: 'rw' },
  Torque_Enable: { address: 40, size: 1, access: 'rw' },
  Acceleration: { address: 41, size: 1, access: 'rw' },
  Goal_Position: { address: 42, size: 2, access: 'rw', signBit: 15 },
  Goal_Time: { address: 44, size: 2, access: 'rw' },
  Goal_Velocity: { address: 46, size: 2, access: 'rw', signBit: 15 },
  Torque_Limit: { address: 48, size: 2, access: 'rw' },
  Lock: { address: 55, size: 1, access: 'rw' },
  Present_Position: { address: 56, size: 2, access: 'r', signBit: 15 },
  Present_Velocity: { address: 58, size: 2, access: 'r', signBit: 15 },
  Present_Load: { address: 60, size: 2, access: 'r', signBit: 10 },
  Present_Voltage: { address: 62, size: 1, access: 'r' },
  Present_Temperature: { address: 63, size: 1, access: 'r' },
  Status: { address: 65, size: 1, access: 'r' },
  Moving: { address: 66, size: 1, access: 'r' },
  Present_Current: { address: 69, size: 2, access: 'r' },
  // Factory area. Feetech's table marks 80–86 read-only, but LeRobot writes Maximum_Acceleration (85)
  // with a status-checked write on every configure, so real servos accept it (PROTOCOLS.md B5/B7).
  Moving_Velocity_Threshold: { address: 80, size: 1, access: 'rw' },
  DTs: { address: 81, size: 1, access: 'rw' },
  Velocity_Unit_Factor: { address: 82, size: 1, access: 'rw' },
  Hts: { address: 83, size: 1, access: 'rw' },
  Maximum_Velocity_Limit: { address: 84, size: 1, access: 'rw' },
  Maximum_Acceleration: { address: 85, size: 1, access: 'rw' },
  Acceleration_Multiplier: { address: 86, size: 1, access: 'rw' },
} as const satisfies Record<string, RegisterSpec>;

export type StsRegister = keyof typeof STS_TABLE;

/** Status error byte and Status register (65) bits (PROTOCOLS.md B3). */
export const STS_ERROR_BITS = {
  0x01: 'input voltage error',
  0x02: 'angle sensor error',
  0x04: 'overheat',
  0x08: 'over-current',
  0x20: 'overload',
} as const;

export const STS3215: ServoModel<StsRegister> = {
  name: 'sts3215',
  vendor: 'feetech',
  modelNumber: 777,
  table: STS_TABLE,
  resolution: 4096,
  endianness: 'little',
  eepromEnd: 40,
  memorySize: 87,
  initial: {
    Firmware_Major: 3,
    Firmware_Minor: 10,
    Model_Number: 777,
    ID: 1,
    Baud_Rate: 0,
    Return_Delay_Time: 0,
    Response_Status_Level: 1,
    Min_Position_Limit: 0,
    Max_Position_Limit: 4095,
    Max_Temperature_Limit: 70,
    Max_Voltage_Limit: 140,
    Min_Voltage_Limit: 40,
    Max_Torque_Limit: 1000,
    Phase: 12,
    Unloading_Condition: 44,
    LED_Alarm_Condition: 47,
    P_Coefficient: 32,
    D_Coefficient: 32,
    I_Coefficient: 0,
    Minimum_Startup_Force: 16,
    CW_Dead_Zone: 1,
    CCW_Dead_Zone: 1,
    Protection_Current: 511,
    Angular_Resolution: 1,
    Operating_Mode: 0,
    Protective_Torque: 20,
    Protection_Time: 200,
    Overload_Torque: 80,
    Torque_Limit: 1000,
    Lock: 1,
    Present_Voltage: 120,
    Present_Temperature: 30,
    Maximum_Velocity_Limit: 254,
    Maximum_Acceleration: 254,
  },
  // ~0.222 s / 60° at 12 V no load → ≈ 270°/s ≈ 3070 counts/s.
  maxSpeedCountsPerS: 3070,
  maxAccelCountsPerS2: 25_400, // Acceleration register unit 100 counts/s² (254 max)
};

/** SCS series (SCS0009): the same packet format, big-endian values, 1024 counts/rev. */
export const SCS_ENDIANNESS = 'big' as const;
